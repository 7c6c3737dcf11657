"""Metrics buffered in memory and written in batches, by size and by interval, flushed on exit."""

from __future__ import annotations

import logging
import threading
import time

from modelyard.entities import Metric, limits
from modelyard.errors import RunEnded
from modelyard.store.base import TrackingStore

log = logging.getLogger(__name__)


class MetricsBuffer:
    """Thread-safe; `add` never touches the store, so logging a point costs microseconds.

    Once the store says the run has ended (RunEnded: canceled, or failed by the reaper while
    this process went on), the buffer stops: pending points are dropped, since they can never
    be written, and every later `add` or `flush` raises RunEnded, so a script left behind by
    its job stops at its next `log` instead of logging into the void.
    """

    def __init__(
        self, store: TrackingStore, run_id: str, flush_size: int, flush_interval_s: float
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._flush_size = max(1, min(flush_size, limits.METRICS_PER_BATCH_MAX))
        self._flush_interval_s = flush_interval_s
        self._pending: list[Metric] = []
        self._ended: RunEnded | None = None
        self._ended_reported = False  # raised to the caller (not only seen by the writer)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._flush_periodically, daemon=True)
        self._thread.start()

    def add(self, name: str, value: float, step: int) -> None:
        self._raise_if_ended()
        with self._lock:
            self._pending.append(Metric(name, float(value), step, time.time()))
            # Wake the writer once, as the buffer fills, not on every point after that.
            full = len(self._pending) == self._flush_size
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything added so far; on return it is in the store."""
        with self._write_lock:
            self._raise_if_ended()
            with self._lock:
                pending, self._pending = self._pending, []
            written = 0
            try:
                for written in range(0, len(pending), limits.METRICS_PER_BATCH_MAX):
                    batch = pending[written : written + limits.METRICS_PER_BATCH_MAX]
                    self._store.log_batch(self._run_id, batch)
            except RunEnded as error:
                self._stop_for_good(error)
                self._ended_reported = threading.current_thread() is not self._thread
                raise
            except BaseException:
                with self._lock:  # Keep what was not written, in order, for the next flush.
                    self._pending[:0] = pending[written:]
                raise

    def close(self) -> None:
        """Stop the writer and flush. Points refused because the run has ended are dropped
        with one warning, not raised: this runs at exit, where a traceback helps nobody."""
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=30)
        if self._ended is not None:
            if not self._ended_reported:  # seen by the writer only: say it once
                log.warning("%s", self._ended.message)
            return
        try:
            self.flush()
        except RunEnded as error:
            log.warning("%s", error.message)

    def _stop_for_good(self, error: RunEnded) -> None:
        self._ended = error
        with self._lock:
            self._pending.clear()
        self._closed.set()
        self._wake.set()

    def _raise_if_ended(self) -> None:
        if self._ended is not None:
            self._ended_reported = True
            raise RunEnded(self._ended.message, **self._ended.context)

    def _flush_periodically(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except RunEnded:
                return  # said once: by the script's next add() or flush(), or at close()
            except Exception as error:  # Kept for the final flush, which raises to the caller.
                log.warning("writing metrics of run %s failed: %s", self._run_id, error)
