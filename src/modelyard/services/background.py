"""The one loop a workspace server runs: reap runs whose process died, run a scheduling pass,
copy the live logs of jobs that run away from this disk (Ray), start again the host of any
endpoint whose host died (each host supervises its own replicas and rolls those that follow a
registry alias), fire the schedules that are due (services/schedules.py). Under a lease row, so that
several server processes on one database never do it twice at once.

The embedded workspace has no loop: whoever changes the queue runs the pass.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from modelyard.errors import ModelyardError
from modelyard.services import scheduling
from modelyard.services.endpoints import ensure_hosts
from modelyard.services.remote_logs import RemoteLogs, copy_remote_logs
from modelyard.services.runs import reap_dead_runs
from modelyard.services.schedules import fire_due_schedules
from modelyard.services.workspaces import OpenWorkspace

_log = logging.getLogger(__name__)
LEASE = "background-loop"


def tick(ws: OpenWorkspace, remote_logs: RemoteLogs | None = None) -> None:
    """One round of the loop's work; each part's failure is logged, never fatal. A loop passes
    its `remote_logs`, which follows remote jobs from round to round until their logs are
    final."""
    copy_logs = copy_remote_logs if remote_logs is None else remote_logs.copy
    for name, work in (
        ("reaper", reap_dead_runs),
        ("scheduling pass", scheduling.schedule_pass),
        ("remote logs", copy_logs),
        ("endpoint hosts", ensure_hosts),
        ("schedules", fire_due_schedules),
    ):
        try:
            work(ws)
        except ModelyardError as error:
            _log.warning("background %s failed: %s", name, error.message)


class BackgroundLoop:
    """A daemon thread doing `tick` every `interval_s` while it holds the lease."""

    def __init__(self, ws: OpenWorkspace, interval_s: float) -> None:
        self.ws = ws
        self.interval_s = interval_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.remote_logs = RemoteLogs()
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
                    tick(self.ws, self.remote_logs)
            except Exception as error:  # the loop outlives any one bad round
                _log.warning("background loop round failed: %s", error)
