"""What every compute backend does: launch a queued run, cancel it. Scheduling lives in services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class LaunchRequest:
    """Everything a backend needs to start a run's supervisor."""

    run_id: str
    workspace_root: Path
    log_path: Path


@dataclass(frozen=True)
class ProcessHandle:
    """How to find the run's process again: pid plus its start time, which pids don't repeat."""

    host: str
    pid: int
    started_at: float


class ComputeBackend(Protocol):
    name: str

    def launch(self, request: LaunchRequest) -> ProcessHandle: ...

    def cancel(self, handle: ProcessHandle, grace_s: float) -> bool:
        """Stop the whole process tree; return True once nothing of it is left."""
        ...

    def is_gone(self, handle: ProcessHandle) -> bool | None:
        """True if the process is known to be gone, None if this backend cannot tell."""
        ...
