"""The command that runs a job's code, and the words for how it ended: the same for the local
supervisor and the one on a Ray cluster (`supervisor.py`, `remote_supervisor.py`)."""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from pathlib import Path
from typing import Any

from modelyard.runtime import lifeline

ERROR_TAIL_LINES = 20


def job_command(python: Path | str, spec: dict[str, Any]) -> list[str]:
    """`python -u SCRIPT|-m MODULE ARGUMENTS…` of a job spec (`system/job.json`), started
    through `lifeline.py` so that it dies with this process even by SIGKILL, instead of logging
    on into a run that has ended."""
    command = [str(python), "-u", *entry_point(spec), *map(str, spec.get("arguments", ()))]
    return [sys.executable, "-I", "-S", lifeline.__file__, str(os.getpid()), *command]


def entry_point(spec: dict[str, Any]) -> list[str]:
    """A user's script in the snapshot, or a built-in job's module."""
    if spec.get("module"):
        return ["-m", str(spec["module"])]
    return [str(spec["script"])]


def failure_reason(exit_code: int, log_tail: str) -> str:
    """Why a script that ended with `exit_code` failed, with the last lines of its log."""
    if exit_code < 0:
        cause = f"was killed by {signal.Signals(-exit_code).name}"
    else:
        cause = f"exited with code {exit_code}"
    return f"the script {cause}" + (f"; last lines of the log:\n{log_tail}" if log_tail else "")


def last_lines(path: Path, count: int = ERROR_TAIL_LINES) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=count)).rstrip()
    except FileNotFoundError:
        return ""
