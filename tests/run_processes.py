"""A launched run's supervisor process, for tests that signal it: read from the local backend's
opaque handle (`pid:PID@HOST/START`)."""

from __future__ import annotations

from modelyard.entities import Run
from modelyard.entities.process import ProcessHandle


def pid_of(run: Run) -> int | None:
    return None if run.handle is None else ProcessHandle.parse(run.handle).pid
