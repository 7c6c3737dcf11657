"""A sweep's driver: `python -m modelyard.builtin_jobs.sweep --config sweep.json`, the job of
a sweep's parent run (`services/sweeps/driver.py` does the work).

It runs beside the workspace (the built-in `local` compute) and reaches it through its folder.
Canceled (SIGTERM), it cancels the trials still queued or running and exits; killed, it leaves
them to the driver that `modelyard sweep resume` starts. A sweep that cannot go on (a trial
that never logs the primary metric, no trial completed, a compute gone) fails its run with one
line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from modelyard.errors import InvalidValue, ModelyardError
from modelyard.runtime import preemption
from modelyard.runtime.job_env import RUN_ID_ENV, WORKSPACE_PATH_ENV
from modelyard.runtime.job_error import report_failure
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.services.sweeps.driver import SweepDriver, SweepStopped
from modelyard.services.sweeps.sweep_job import TRIAL_CODE, read_config
from modelyard.services.workspaces import OpenWorkspace, open_workspace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.sweep")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    # Opted in: a cancel's SIGTERM is a request the driver answers by canceling its trials.
    preemption.watch_for_stop()
    preemption.stop_requested()
    try:
        ws = _workspace()
        try:
            return _drive(ws, options.config)
        finally:
            ws.close()
    except SweepStopped:
        print("the sweep was canceled: its trials were canceled", flush=True)
        return STOPPED_EXIT_CODE
    except ModelyardError as error:
        print(f"error: {error.message}", file=sys.stderr, flush=True)
        report_failure(error.message)  # the run's error: these words, not the log's tail
        return 1


def _drive(ws: OpenWorkspace, config_file: Path) -> int:
    config, environment = read_config(config_file.read_bytes())
    run_id = os.environ[RUN_ID_ENV]
    driver = SweepDriver(
        ws,
        run_id,
        config,
        environment,
        trial_code=ws.local_artifacts.run_root(run_id) / "snapshot" / TRIAL_CODE,
        stop_requested=preemption.stop_requested,
        say=lambda line: print(line, flush=True),
    )
    driver.run()
    return 0


def _workspace() -> OpenWorkspace:
    folder = os.environ.get(WORKSPACE_PATH_ENV)
    if not folder or not os.environ.get(RUN_ID_ENV):
        raise InvalidValue(
            "the sweep's driver runs as a sweep's job beside its workspace: submit the sweep"
            " with `modelyard job create -f sweep.yml`",
        )
    return open_workspace(Path(folder))


if __name__ == "__main__":
    sys.exit(main())
