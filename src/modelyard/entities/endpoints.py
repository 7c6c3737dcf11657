"""Online endpoints and their deployments, as Azure ML has them (v2 words).

An endpoint is one scoring URI with keys; it holds deployments (a model served by N replicas)
and splits its traffic between them by percent. The deployment states and their transitions
are defined here once; so are the traffic rules (percentages summing to 100, a mirror share
that never answers) and what makes a deploy request wrong in itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from modelyard.entities.names import validate_deployment_name, validate_endpoint_name
from modelyard.entities.process import ProcessHandle
from modelyard.errors import InvalidTransition, InvalidValue

PIN_HEADER: Final = "x-modelyard-deployment"  # Azure's azureml-model-deployment
LOCAL_COMPUTE: Final = "local"
LOOPBACK: Final = "127.0.0.1"  # where an endpoint's front and replicas listen
MAX_REPLICAS: Final = 16


class AuthMode(StrEnum):
    KEY = "key"


class DeploymentState(StrEnum):
    CREATING = "Creating"
    UPDATING = "Updating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    DELETING = "Deleting"

    def check_transition(self, target: DeploymentState, deployment: str) -> None:
        if target not in DEPLOYMENT_TRANSITIONS[self]:
            allowed = ", ".join(sorted(s.value for s in DEPLOYMENT_TRANSITIONS[self])) or "none"
            raise InvalidTransition(
                f"deployment {deployment} cannot go from {self.value} to {target.value}:"
                f" from {self.value} it may only become {allowed}",
                deployment=deployment,
                current=self.value,
                target=target.value,
            )

    @property
    def serves(self) -> bool:
        return self in (DeploymentState.SUCCEEDED, DeploymentState.UPDATING)


DEPLOYMENT_TRANSITIONS: Final[dict[DeploymentState, frozenset[DeploymentState]]] = {
    DeploymentState.CREATING: frozenset({DeploymentState.SUCCEEDED, DeploymentState.FAILED}),
    DeploymentState.UPDATING: frozenset({DeploymentState.SUCCEEDED, DeploymentState.FAILED}),
    DeploymentState.SUCCEEDED: frozenset({DeploymentState.UPDATING, DeploymentState.DELETING}),
    DeploymentState.FAILED: frozenset({DeploymentState.CREATING, DeploymentState.DELETING}),
    DeploymentState.DELETING: frozenset(),
}


@dataclass(frozen=True)
class ReplicaHandle:
    """One replica process: where it listens and how to find it again (pid + start time)."""

    index: int
    port: int
    handle: str  # ProcessHandle.to_string()

    @property
    def process(self) -> ProcessHandle:
        return ProcessHandle.parse(self.handle)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "port": self.port, "handle": self.handle}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicaHandle:
        return cls(int(data["index"]), int(data["port"]), str(data["handle"]))


@dataclass(frozen=True)
class DeploymentRequest:
    """What a deploy asks for; `check()` refuses what is wrong in itself, before anything runs."""

    endpoint: str
    name: str
    model: str  # the reference as given: NAME, NAME:VERSION, NAME@ALIAS
    entry_script: str | None = None
    source_directory: str | None = None
    environment: str | None = None  # JSON of environments.Environment.to_dict(); None: this Python
    compute: str = LOCAL_COMPUTE
    replicas: int = 1
    cpu_cores: float = 1.0
    memory_gb: float = 1.0

    def check(self) -> DeploymentRequest:
        validate_endpoint_name(self.endpoint)
        validate_deployment_name(self.name)
        if not self.model.strip():
            raise InvalidValue("a deployment needs a model: --model NAME:VERSION or NAME@ALIAS")
        if self.compute != LOCAL_COMPUTE:
            raise InvalidValue(
                f"compute {self.compute!r} cannot host deployments yet: use --compute local",
                compute=self.compute,
            )
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise InvalidValue(f"replicas must be 1–{MAX_REPLICAS}, not {self.replicas}")
        if self.cpu_cores <= 0 or self.memory_gb <= 0:
            raise InvalidValue("cpu-cores and memory-gb must be positive")
        if self.source_directory and not self.entry_script:
            raise InvalidValue("--source-directory needs --entry-script (the score.py in it)")
        return self


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    name: str
    model: str
    model_name: str
    model_version: int
    state: DeploymentState
    created_at: datetime
    updated_at: datetime
    entry_script: str | None = None
    source_directory: str | None = None
    environment: str | None = None
    compute: str = LOCAL_COMPUTE
    replicas: int = 1
    cpu_cores: float = 1.0
    memory_gb: float = 1.0
    error: str | None = None
    replica_handles: tuple[ReplicaHandle, ...] = ()

    @property
    def resolved_model(self) -> str:
        return f"{self.model_name}:{self.model_version}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        """A deployment as a server's API answers it (`to_dict`)."""
        model_name, _, model_version = str(data["resolved_model"]).rpartition(":")
        environment = data.get("environment")
        return cls(
            endpoint=str(data["endpoint"]),
            name=str(data["name"]),
            model=str(data["model"]),
            model_name=model_name,
            model_version=int(model_version),
            state=DeploymentState(data["state"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            entry_script=data.get("entry_script"),
            source_directory=data.get("source_directory"),
            environment=json.dumps(environment) if environment is not None else None,
            compute=str(data.get("compute", LOCAL_COMPUTE)),
            replicas=int(data["replicas"]),
            cpu_cores=float(data["cpu_cores"]),
            memory_gb=float(data["memory_gb"]),
            error=data.get("error"),
            replica_handles=tuple(ReplicaHandle.from_dict(r) for r in data["replica_handles"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "name": self.name,
            "model": self.model,
            "resolved_model": self.resolved_model,
            "entry_script": self.entry_script,
            "source_directory": self.source_directory,
            "environment": json.loads(self.environment) if self.environment else None,
            "compute": self.compute,
            "replicas": self.replicas,
            "cpu_cores": self.cpu_cores,
            "memory_gb": self.memory_gb,
            "state": self.state.value,
            "error": self.error,
            "replica_handles": [r.to_dict() for r in self.replica_handles],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Traffic:
    """Percent of requests per deployment (sums to 100 when any deployment takes traffic), and
    an optional mirror: a deployment that gets a copy of `mirror_percent` of requests, whose
    answers are dropped."""

    split: dict[str, int] = field(default_factory=dict)
    mirror: str | None = None
    mirror_percent: int = 0

    def check(self, deployments: set[str]) -> Traffic:
        named = set(self.split) | ({self.mirror} if self.mirror else set())
        unknown = sorted(named - deployments)
        if unknown:
            raise InvalidValue(
                f"traffic names deployments that don't exist: {', '.join(unknown)}",
                deployments=unknown,
            )
        if any(not 0 <= p <= 100 for p in self.split.values()):
            raise InvalidValue("each traffic percent must be 0–100")
        total = sum(self.split.values())
        if self.split and total != 100:
            raise InvalidValue(f"traffic must sum to 100, not {total}: {format_split(self.split)}")
        if not 0 <= self.mirror_percent <= 100 or (self.mirror is None) != (
            self.mirror_percent == 0
        ):
            raise InvalidValue("a mirror needs a deployment and a percent 1–100")
        if self.mirror is not None and self.split.get(self.mirror, 0) > 0:
            raise InvalidValue(f"deployment {self.mirror} takes live traffic; it cannot mirror")
        return self

    def without(self, deployment: str) -> Traffic:
        split = {k: v for k, v in self.split.items() if k != deployment}
        if split and sum(split.values()) != 100:
            split = {}  # the caller sets a new split; a partial one would be wrong
        mirror = None if self.mirror == deployment else self.mirror
        return Traffic(split, mirror, self.mirror_percent if mirror else 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": dict(self.split),
            "mirror": self.mirror,
            "mirror_percent": self.mirror_percent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Traffic:
        return cls(
            {str(k): int(v) for k, v in data.get("split", {}).items()},
            data.get("mirror"),
            int(data.get("mirror_percent", 0)),
        )


def parse_traffic(text: str) -> dict[str, int]:
    """`blue=90,green=10` → {"blue": 90, "green": 10}; a one-line error otherwise."""
    split: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, percent = part.partition("=")
        if not sep or not percent.strip().isdigit():
            raise InvalidValue(f"traffic {text!r} is not NAME=PERCENT,…: e.g. blue=90,green=10")
        split[name.strip()] = int(percent)
    return split


def format_split(split: dict[str, int]) -> str:
    return ",".join(f"{name}={percent}" for name, percent in split.items()) or "(none)"


@dataclass(frozen=True)
class Endpoint:
    """One scoring URI. The keys are stored as they are (not hashed): `get-keys` must give
    them back, as Azure's does; the database is as secret as the keys.

    `host` is the name its front is reached by: 127.0.0.1 on the workspace's machine, the
    server's host name for a client of a server (`from_dict`, whose keys are empty: a server
    never sends them with an endpoint, they are asked for)."""

    name: str
    port: int
    primary_key: str
    secondary_key: str
    created_at: datetime
    updated_at: datetime
    auth_mode: AuthMode = AuthMode.KEY
    traffic: Traffic = field(default_factory=Traffic)
    host_handle: str | None = None  # the endpoint's front + supervisor process
    description: str | None = None
    host: str = LOOPBACK

    @property
    def scoring_uri(self) -> str:
        return f"{self._base_url}/score"

    @property
    def swagger_uri(self) -> str:
        return f"{self._base_url}/swagger.json"

    @property
    def _base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    def with_traffic(self, traffic: Traffic) -> Endpoint:
        return replace(self, traffic=traffic)

    def to_dict(self, deployments: list[Deployment] | None = None) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "name": self.name,
            "auth_mode": self.auth_mode.value,
            "scoring_uri": self.scoring_uri,
            "swagger_uri": self.swagger_uri,
            "port": self.port,
            "traffic": self.traffic.split,
            "mirror_traffic": {self.traffic.mirror: self.traffic.mirror_percent}
            if self.traffic.mirror
            else {},
            "description": self.description,
            "created_at": self.created_at.isoformat(),
        }
        if deployments is not None:
            shown["deployments"] = [d.to_dict() for d in deployments]
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any], host: str) -> Endpoint:
        """An endpoint as a server's API answers it (`to_dict`), reached at `host`."""
        mirror = dict(data.get("mirror_traffic") or {})
        ((mirror_name, mirror_percent),) = mirror.items() if mirror else ((None, 0),)
        created = datetime.fromisoformat(data["created_at"])
        return cls(
            name=str(data["name"]),
            port=int(data["port"]),
            primary_key="",
            secondary_key="",
            created_at=created,
            updated_at=created,
            auth_mode=AuthMode(data.get("auth_mode", AuthMode.KEY.value)),
            traffic=Traffic(
                {str(k): int(v) for k, v in data["traffic"].items()},
                mirror_name,
                int(mirror_percent),
            ),
            description=data.get("description"),
            host=host,
        )


@dataclass(frozen=True)
class EndpointHealth:
    """Which of an endpoint's processes run now, as their handles find them (no request sent):
    its host (the front and the supervisor that restarts replicas) and each deployment's
    replicas. A deployment's state says what was decided; this says what is running."""

    front_running: bool
    replicas_running: dict[str, int] = field(default_factory=dict)  # deployment → replicas

    def to_dict(self) -> dict[str, Any]:
        return {
            "front_running": self.front_running,
            "replicas_running": dict(self.replicas_running),
        }


@dataclass(frozen=True)
class RoutedReplica:
    """A replica as the endpoint's front and supervisor see it: where to send requests, and
    how to start it again on the same port if it dies."""

    deployment: str
    index: int
    port: int
    handle: str
    argv: tuple[str, ...]
    log: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "argv": list(self.argv)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutedReplica:
        return cls(
            str(data["deployment"]),
            int(data["index"]),
            int(data["port"]),
            str(data["handle"]),
            tuple(data["argv"]),
            str(data["log"]),
        )


@dataclass(frozen=True)
class RoutingTable:
    """Everything an endpoint's front needs, written by the service as one JSON file (replaced
    atomically) and re-read by the front when it changes: the keys it accepts (the one place a
    key is checked), the traffic, and the serving replicas of each deployment. `replica_key` is
    what the front presents to the replicas, which listen on 127.0.0.1 only."""

    endpoint: str
    keys: tuple[str, ...]
    replica_key: str
    traffic: Traffic
    replicas: tuple[RoutedReplica, ...]

    def replicas_of(self, deployment: str) -> list[RoutedReplica]:
        return [r for r in self.replicas if r.deployment == deployment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": list(self.keys),
            "replica_key": self.replica_key,
            "traffic": self.traffic.to_dict(),
            "replicas": [r.to_dict() for r in self.replicas],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingTable:
        return cls(
            str(data["endpoint"]),
            tuple(data["keys"]),
            str(data["replica_key"]),
            Traffic.from_dict(data["traffic"]),
            tuple(RoutedReplica.from_dict(r) for r in data["replicas"]),
        )
