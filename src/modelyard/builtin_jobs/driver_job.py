"""What the built-in jobs that drive child runs (a sweep's, a pipeline's) share: they run
beside the workspace (the built-in `local` compute) and reach it through its folder, answer a
cancel's SIGTERM by canceling their children, and fail their run with one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from modelyard.errors import InvalidValue, ModelyardError
from modelyard.runtime import preemption
from modelyard.runtime.job_env import RUN_ID_ENV, WORKSPACE_PATH_ENV
from modelyard.runtime.job_error import report_failure
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.services.workspaces import OpenWorkspace, open_workspace

# The work: the workspace, the `--config` file and the run's id.
Drive = Callable[[OpenWorkspace, Path, str], None]


def driver_main(
    argv: list[str] | None,
    *,
    module: str,
    noun: str,
    children: str,
    drive: Drive,
    stopped: type[BaseException],
) -> int:
    """`python -m MODULE --config FILE`: 0 done, 143 canceled, 1 failed (the run's error)."""
    parser = argparse.ArgumentParser(prog=module)
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    # Opted in: a cancel's SIGTERM is a request the driver answers by canceling its children.
    preemption.watch_for_stop()
    preemption.stop_requested()
    try:
        ws = _workspace(noun)
        try:
            drive(ws, options.config, os.environ[RUN_ID_ENV])
            return 0
        finally:
            ws.close()
    except stopped:
        print(f"the {noun} was canceled: its {children} were canceled", flush=True)
        return STOPPED_EXIT_CODE
    except ModelyardError as error:
        print(f"error: {error.message}", file=sys.stderr, flush=True)
        report_failure(error.message)  # the run's error: these words, not the log's tail
        return 1


def say(line: str) -> None:
    print(line, flush=True)


def _workspace(noun: str) -> OpenWorkspace:
    folder = os.environ.get(WORKSPACE_PATH_ENV)
    if not folder or not os.environ.get(RUN_ID_ENV):
        raise InvalidValue(
            f"the {noun}'s driver runs as a {noun}'s job beside its workspace: submit the"
            f" {noun} with `modelyard job create -f {noun}.yml`",
        )
    return open_workspace(Path(folder))
