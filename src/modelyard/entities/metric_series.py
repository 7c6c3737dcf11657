"""A run's metrics as charts show them, the same from every store (SQL or REST).

A series longer than a chart's `max_points` is thinned by the store (the SQL store in the
database, keeping each range's extremes); only finite points are charted, the others counted.
A read carries a version that changes whenever the run logs a point, so that a page polling
a quiet run learns cheaply that nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from modelyard.entities.records import float_from_json, float_to_json

Point = tuple[int, float]  # (step, value)

DEFAULT_MAX_POINTS: Final = 2000
MIN_MAX_POINTS: Final = 4  # first, last, and one bucket's low and high


@dataclass(frozen=True)
class MetricSeries:
    """One metric of a run as a chart shows it."""

    name: str
    points: list[Point]  # finite points by step, thinned to at most max_points
    count: int  # points logged, finite or not
    finite: int
    last: float | None  # the value at the highest step (last logged on a tie); NaN for NULL
    # When each point was logged (Unix seconds), parallel to `points`: for charts over wall
    # time or time since the run started. Empty from a server older than these.
    times: list[float] = field(default_factory=list)

    @property
    def non_finite(self) -> int:
        return self.count - self.finite

    @property
    def downsampled(self) -> bool:
        return len(self.points) < self.finite

    def to_dict(self) -> dict[str, Any]:
        """Finite points by step (a chart has no place for NaN or infinity: they are counted)."""
        return {
            "points": [[step, value] for step, value in self.points],
            "count": self.count,
            "non_finite": self.non_finite,
            "downsampled": self.downsampled,
            "last": float_to_json(self.last),
            "times": self.times,
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> MetricSeries:
        count = int(data["count"])
        last = data["last"]
        return cls(
            name=name,
            points=[(int(step), float(value)) for step, value in data["points"]],
            count=count,
            finite=count - int(data["non_finite"]),
            last=None if last is None else float(float_from_json(last)),
            times=[float(time) for time in data.get("times", [])],
        )


@dataclass(frozen=True)
class MetricSeriesRead:
    """A run's series as of `version`; none when the reader's version was current already."""

    version: str
    changed: bool
    series: list[MetricSeries] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "changed": self.changed,
            "series": {series.name: series.to_dict() for series in self.series},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricSeriesRead:
        found = data["series"]
        return cls(
            version=str(data["version"]),
            changed=bool(data["changed"]),
            series=[MetricSeries.from_dict(name, found[name]) for name in found],
        )
