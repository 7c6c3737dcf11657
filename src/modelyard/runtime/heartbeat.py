"""A daemon thread that tells the store, every few seconds, that a run's process is alive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from modelyard.entities import Run
from modelyard.errors import RunEnded
from modelyard.store.base import TrackingStore

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self,
        store: TrackingStore,
        run_id: str,
        interval_s: float,
        on_beat: Callable[[Run], None] | None = None,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._interval_s = interval_s
        # Told the run as each beat finds it: how a supervisor learns it is being preempted.
        self._on_beat = on_beat
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="modelyard-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._interval_s + 5)

    def _beat(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                run = self._store.heartbeat(self._run_id)
                if self._on_beat is not None:
                    self._on_beat(run)
            except RunEnded:
                return  # Ended by someone else (cancel, the reaper): nothing left to report.
            except Exception as error:  # A store hiccup must not kill the job; retry next beat.
                log.warning("heartbeat for run %s failed: %s", self._run_id, error)
