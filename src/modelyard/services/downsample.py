"""Long metric series thinned for a chart, keeping what a chart must show: the extremes.

A chart a few hundred pixels wide cannot show 100,000 points, and sending them every second or
two while a run is live would be wasteful. `min_max_downsample` splits the series into equal
buckets by position and keeps each bucket's lowest and highest point, in their order, plus the
first and the last point: every spike survives (unlike averaging or taking every n-th point),
and the line keeps its envelope. The result never has more than `max_points` points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

Point = tuple[float, float]  # (step, value)

DEFAULT_MAX_POINTS: Final = 2000
MIN_MAX_POINTS: Final = 4  # first, last, and one bucket's low and high


def min_max_downsample(
    points: Sequence[Point], max_points: int = DEFAULT_MAX_POINTS
) -> list[Point]:
    """At most `max_points` of `points` (ordered by step), keeping each bucket's min and max."""
    if max_points < MIN_MAX_POINTS:
        raise ValueError(f"max_points must be at least {MIN_MAX_POINTS}, not {max_points}")
    if len(points) <= max_points:
        return list(points)
    inner = points[1:-1]
    buckets = (max_points - 2) // 2
    kept = [points[0]]
    for bucket in range(buckets):
        start = bucket * len(inner) // buckets
        end = (bucket + 1) * len(inner) // buckets
        kept += _low_and_high(inner, start, end)
    kept.append(points[-1])
    return kept


def _low_and_high(points: Sequence[Point], start: int, end: int) -> list[Point]:
    """The lowest and highest point of points[start:end], in series order (one if the same)."""
    if start >= end:
        return []
    low = high = start
    for index in range(start + 1, end):
        value = points[index][1]
        if value < points[low][1]:
            low = index
        elif value > points[high][1]:
            high = index
    return [points[index] for index in sorted({low, high})]
