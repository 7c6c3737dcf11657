"""Plain typed records of the tracking domain. They are not ORM rows: stores convert at the edge."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.entities.run_status import RunStatus


@dataclass(frozen=True)
class Workspace:
    name: str
    path: str
    location: str
    resource_group: str
    store_uri: str
    created_at: str
    server_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "location": self.location,
            "resource_group": self.resource_group,
            "store_uri": self.store_uri,
            "created_at": self.created_at,
            "server_url": self.server_url,
        }


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    created_at: datetime
    run_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "run_count": self.run_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Experiment:
        return cls(
            id=data["id"],
            name=data["name"],
            created_at=datetime.fromisoformat(data["created_at"]),
            run_count=int(data.get("run_count", 0)),
        )


@dataclass(frozen=True)
class RunSource:
    """Where a run's code came from."""

    script: str | None = None
    arguments: tuple[str, ...] = ()
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_repository: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": self.script,
            "arguments": list(self.arguments),
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "git_repository": self.git_repository,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunSource:
        data = data or {}
        return cls(
            script=data.get("script"),
            arguments=tuple(data.get("arguments") or ()),
            git_commit=data.get("git_commit"),
            git_dirty=data.get("git_dirty"),
            git_repository=data.get("git_repository"),
        )


@dataclass(frozen=True)
class Run:
    id: str
    experiment_id: str
    experiment_name: str
    number: int
    display_name: str
    status: RunStatus
    created_at: datetime
    user: str
    source: RunSource = field(default_factory=RunSource)
    parent_id: str | None = None
    compute_target: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    heartbeat_at: datetime | None = None
    error: str | None = None
    # The compute backend's opaque handle of its process or submission (compute/base.py).
    handle: str | None = None
    attempt: int = 1
    queued_at: datetime | None = None
    # Why a queued run waits ("waiting for a node on gpu-pool: 3 ahead"), set by the scheduler.
    status_detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "experiment": self.experiment_name,
            "experiment_id": self.experiment_id,
            "number": self.number,
            "display_name": self.display_name,
            "status": self.status.value,
            "parent_id": self.parent_id,
            "compute_target": self.compute_target,
            "user": self.user,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "heartbeat_at": _iso(self.heartbeat_at),
            "error": self.error,
            "source": self.source.to_dict(),
            "handle": self.handle,
            "attempt": self.attempt,
            "queued_at": _iso(self.queued_at),
            "status_detail": self.status_detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        return cls(
            id=data["id"],
            experiment_id=data["experiment_id"],
            experiment_name=data["experiment"],
            number=int(data["number"]),
            display_name=data["display_name"],
            status=RunStatus(data["status"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            user=data["user"],
            source=RunSource.from_dict(data.get("source")),
            parent_id=data.get("parent_id"),
            compute_target=data.get("compute_target"),
            started_at=_from_iso(data.get("started_at")),
            ended_at=_from_iso(data.get("ended_at")),
            heartbeat_at=_from_iso(data.get("heartbeat_at")),
            error=data.get("error"),
            handle=data.get("handle"),
            attempt=int(data.get("attempt") or 1),
            queued_at=_from_iso(data.get("queued_at")),
            status_detail=data.get("status_detail"),
        )


@dataclass(frozen=True)
class RunAttempt:
    """An attempt of a run that ended without ending the run: preempted, or lost and requeued."""

    attempt: int
    started_at: datetime | None
    ended_at: datetime
    outcome: RunStatus
    cause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "outcome": self.outcome.value,
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunAttempt:
        ended = _from_iso(data.get("ended_at"))
        assert ended is not None
        return cls(
            attempt=int(data["attempt"]),
            started_at=_from_iso(data.get("started_at")),
            ended_at=ended,
            outcome=RunStatus(data["outcome"]),
            cause=str(data["cause"]),
        )


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    step: int
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": float_to_json(self.value),
            "step": self.step,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metric:
        return cls(
            name=data["name"],
            value=float(float_from_json(data["value"])),
            step=int(data["step"]),
            timestamp=float(data["timestamp"]),
        )


@dataclass(frozen=True)
class RunData:
    """What a run has logged besides metrics series."""

    params: dict[str, str]
    tags: dict[str, str]
    properties: dict[str, str]
    latest_metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": dict(self.params),
            "tags": dict(self.tags),
            "properties": dict(self.properties),
            "latest_metrics": {k: float_to_json(v) for k, v in self.latest_metrics.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunData:
        return cls(
            params=dict(data.get("params") or {}),
            tags=dict(data.get("tags") or {}),
            properties=dict(data.get("properties") or {}),
            latest_metrics={
                k: float(float_from_json(v)) for k, v in (data.get("latest_metrics") or {}).items()
            },
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


_NON_FINITE_WORDS = frozenset({"nan", "inf", "infinity"})


def float_to_json(value: Any) -> Any:
    """Strict JSON has no NaN or infinities: they travel as the strings JavaScript prints.

    Anything that is not a float passes unchanged, so the receiver's validation reports it.
    """
    if not isinstance(value, float) or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def float_from_json(value: Any) -> Any:
    """A non-finite value's string back as a float, in any spelling Python's float() reads
    ("Infinity", "inf", "-INF", "nan"...): one rule, so "inf" is not refused where "Infinity"
    passes. Any other value is returned as it is, for the caller's validation to judge."""
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in _NON_FINITE_WORDS:
        return float(value)
    return value
