"""Plain typed records of the tracking domain. They are not ORM rows: stores convert at the edge."""

from __future__ import annotations

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


@dataclass(frozen=True)
class RunSource:
    """Where a run's code came from."""

    script: str | None = None
    arguments: tuple[str, ...] = ()
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_repository: str | None = None


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
    host: str | None = None
    pid: int | None = None
    pid_started_at: float | None = None

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
            "source": {
                "script": self.source.script,
                "arguments": list(self.source.arguments),
                "git_commit": self.source.git_commit,
                "git_dirty": self.source.git_dirty,
                "git_repository": self.source.git_repository,
            },
        }


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    step: int
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "step": self.step,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True)
class RunData:
    """What a run has logged besides metrics series."""

    params: dict[str, str]
    tags: dict[str, str]
    properties: dict[str, str]
    latest_metrics: dict[str, float]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
