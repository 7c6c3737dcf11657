"""The logs of jobs that run away from this disk (Ray), mirrored into their runs' std logs.

The backend keeps each attempt's log (one Ray job per attempt). Each attempt's log is copied
whole into `system/remote_logs/attempt-N.txt`, and the run's `logs/std_log.txt`, where `job
submit --stream`, `run logs` and the portal read, is those files one after another, as a local
job's log grows across attempts. A job is followed until its backend says it ended, so what it
printed after the last round (its last lines, its supervisor's end) is copied too, once the run
has ended or gone back to the queue. A server restarted meanwhile misses only those last lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelyard.compute import BackendState, ComputeBackend, backend_for
from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeType
from modelyard.errors import ComputeUnavailable, NotFound
from modelyard.fileio import write_bytes_atomic
from modelyard.services.run_files import REMOTE_LOGS, STD_LOG
from modelyard.services.workspaces import OpenWorkspace

_ATTEMPT_LOG = re.compile(r"attempt-([0-9]+)\.txt")
_STILL_GOING = frozenset({BackendState.PENDING, BackendState.RUNNING, BackendState.UNKNOWN})


@dataclass(frozen=True)
class _Attempt:
    run_id: str
    attempt: int
    compute: str


class RemoteLogs:
    """Follows remote jobs from one round to the next (a server's background loop holds one)."""

    def __init__(self) -> None:
        self._following: dict[str, _Attempt] = {}  # handle → the attempt it runs

    def copy(self, ws: OpenWorkspace) -> None:
        current = _attempts_holding_nodes(ws)
        self._following.update(current)
        backends: dict[str, ComputeBackend | None] = {}
        for handle, attempt in list(self._following.items()):
            if attempt.compute not in backends:
                backends[attempt.compute] = _backend_named(ws, attempt.compute)
            backend = backends[attempt.compute]
            ended = backend is None or _copy_attempt(ws, backend, handle, attempt)
            if ended and handle not in current:
                del self._following[handle]


def copy_remote_logs(ws: OpenWorkspace) -> None:
    """One round with nothing remembered: the logs of the jobs holding nodes now."""
    RemoteLogs().copy(ws)


def _attempts_holding_nodes(ws: OpenWorkspace) -> dict[str, _Attempt]:
    remote = {c.name for c in ws.compute_store.list_computes() if c.type is not ComputeType.LOCAL}
    if not remote:
        return {}
    holding = [status for status in RunStatus if status.holds_node]
    return {
        run.handle: _Attempt(run.id, run.attempt, run.compute_target)
        for run in ws.store.list_runs(statuses=holding, limit=10_000)
        if run.compute_target in remote and run.handle is not None
    }


def _backend_named(ws: OpenWorkspace, compute: str) -> ComputeBackend | None:
    try:
        return backend_for(ws.compute_store.get_compute(compute))
    except NotFound:
        return None  # deleted: nothing left to ask


def _copy_attempt(
    ws: OpenWorkspace, backend: ComputeBackend, handle: str, attempt: _Attempt
) -> bool:
    """Copy the attempt's log as the backend has it now; True once that log is final (its job
    ended before it was read) or can no longer be read."""
    try:
        state = backend.state(handle)  # first: a job that had ended has written its last line
        text = backend.read_log(handle)
    except ComputeUnavailable:
        return True  # a cluster that does not answer keeps its logs; try again while it runs
    if text is not None:
        _write_attempt_log(ws, attempt, text.encode())
    return text is None or state not in _STILL_GOING


def _write_attempt_log(ws: OpenWorkspace, attempt: _Attempt, text: bytes) -> None:
    run_root = ws.local_artifacts.run_root(attempt.run_id)
    mirror = run_root / REMOTE_LOGS / f"attempt-{attempt.attempt}.txt"
    if mirror.is_file() and mirror.stat().st_size == len(text) and mirror.read_bytes() == text:
        return
    write_bytes_atomic(mirror, text, durable=False)  # a mirror: copied again if lost
    attempts = sorted(
        (int(found[1]), path)
        for path in mirror.parent.iterdir()
        if (found := _ATTEMPT_LOG.fullmatch(path.name))
    )
    whole = b"".join(path.read_bytes() for _, path in attempts)
    write_bytes_atomic(run_root / STD_LOG, whole, durable=False)
