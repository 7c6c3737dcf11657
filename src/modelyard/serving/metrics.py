"""A replica's metrics in the Prometheus text format (version 0.0.4), written by hand.

Requests by status, request latency, scoring errors, and the sizes of the batches handed to the
model (how well adaptive batching gathers requests). The format is a few lines of text, so a
replica needs no Prometheus client library.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Final

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
PREFIX: Final = "modelyard_scoring"
LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_SIZE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Histogram:
    """Cumulative buckets, a sum and a count, as Prometheus histograms are exposed."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, help_text: str) -> list[str]:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        cumulative = 0
        for bound, count in zip((*map(_number, self.bounds), "+Inf"), self.counts, strict=True):
            cumulative += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
        lines += [f"{name}_sum {_number(self.total)}", f"{name}_count {self.count}"]
        return lines


class ReplicaMetrics:
    """What one replica counts; safe to update from the event loop and worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._latency = Histogram(LATENCY_BUCKETS_S)
        self._batch_sizes = Histogram(BATCH_SIZE_BUCKETS)

    def request_done(self, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[str(status)] += 1
            self._latency.observe(seconds)
            if status >= 500:
                self._errors["server"] += 1
            elif status >= 400:
                self._errors["client"] += 1

    def batch_handled(self, size: int) -> None:
        with self._lock:
            self._batch_sizes.observe(size)

    def render(self) -> str:
        with self._lock:
            lines = [
                *_counter_lines(
                    f"{PREFIX}_requests_total",
                    "Scoring requests by HTTP status.",
                    "status",
                    self._requests,
                ),
                *_counter_lines(
                    f"{PREFIX}_errors_total",
                    "Scoring requests that failed: client (4xx) or server (5xx).",
                    "kind",
                    self._errors,
                ),
                *self._latency.lines(
                    f"{PREFIX}_request_duration_seconds", "Time to answer a scoring request."
                ),
                *self._batch_sizes.lines(
                    f"{PREFIX}_batch_size", "Inputs per model call (adaptive batching)."
                ),
            ]
        return "\n".join(lines) + "\n"


def _counter_lines(name: str, help_text: str, label: str, counts: Counter[str]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines += [f'{name}{{{label}="{value}"}} {counts[value]}' for value in sorted(counts)]
    return lines


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))
