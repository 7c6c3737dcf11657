"""The one loop a workspace server runs: reap runs whose process died, run a scheduling pass,
copy the live logs of jobs that run away from this disk (Ray). Under a lease row, so that
several server processes on one database never do it twice at once.

The embedded workspace has no loop: whoever changes the queue runs the pass.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeType
from modelyard.errors import ComputeUnavailable, ModelyardError, NotFound
from modelyard.fileio import write_bytes_atomic
from modelyard.services import scheduling
from modelyard.services.run_files import STD_LOG
from modelyard.services.runs import backend_of, reap_dead_runs
from modelyard.services.workspaces import OpenWorkspace

_log = logging.getLogger(__name__)
LEASE = "background-loop"


def tick(ws: OpenWorkspace) -> None:
    """One round of the loop's work; each part's failure is logged, never fatal."""
    for work in (reap_dead_runs, scheduling.schedule_pass, copy_remote_logs):
        try:
            work(ws)
        except ModelyardError as error:
            _log.warning("background %s failed: %s", work.__name__, error.message)


def copy_remote_logs(ws: OpenWorkspace) -> None:
    """A remote job's output is kept by its backend (Ray's job log): mirror it into the run's
    log here, where `job submit --stream`, `run logs` and the portal read it."""
    remote = {c.name for c in ws.compute_store.list_computes() if c.type is not ComputeType.LOCAL}
    if not remote:
        return
    holding = [status for status in RunStatus if status.holds_node]
    for run in ws.store.list_runs(statuses=holding, limit=10_000):
        if run.compute_target not in remote or run.handle is None:
            continue
        backend = backend_of(ws, run)
        try:
            text = None if backend is None else backend.read_log(run.handle)
        except (ComputeUnavailable, NotFound):
            continue
        if text:
            write_bytes_atomic(ws.local_artifacts.run_root(run.id) / STD_LOG, text.encode())


class BackgroundLoop:
    """A daemon thread doing `tick` every `interval_s` while it holds the lease."""

    def __init__(self, ws: OpenWorkspace, interval_s: float) -> None:
        self.ws = ws
        self.interval_s = interval_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="modelyard-background", daemon=True)

    def start(self) -> BackgroundLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + 30)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                # Held a few intervals: a holder that dies is replaced soon, one that lives
                # renews it every round.
                if self.ws.compute_store.acquire_lease(LEASE, self.holder, 5 * self.interval_s):
                    tick(self.ws)
            except Exception as error:  # the loop outlives any one bad round
                _log.warning("background loop round failed: %s", error)
