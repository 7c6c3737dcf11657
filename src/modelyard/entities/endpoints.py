"""Online endpoints and their deployments, as Azure ML has them (v2 words).

An endpoint is one scoring URI with keys; it holds deployments (a model served by N replicas)
and splits its traffic between them by percent. The deployment states and their transitions
are defined here once; so are the traffic rules (percentages summing to 100, a mirror share
that never answers) and what makes a deploy request wrong in itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from modelyard.entities.names import (
    validate_compute_name,
    validate_deployment_name,
    validate_endpoint_name,
)
from modelyard.entities.process import ProcessHandle
from modelyard.errors import InvalidTransition, InvalidValue

T = TypeVar("T")
PIN_HEADER: Final = "x-modelyard-deployment"  # Azure's azureml-model-deployment
LOCAL_COMPUTE: Final = "local"
LOOPBACK: Final = "127.0.0.1"  # where an endpoint's front and replicas listen
MAX_REPLICAS: Final = 16  # processes on this machine
MAX_CLUSTER_REPLICAS: Final = 256  # Ray Serve replicas on a cluster
DEFAULT_MIN_REPLICAS: Final = 1
DEFAULT_TARGET_ONGOING_REQUESTS: Final = 2.0  # Ray Serve's own default
MAX_TARGET_ONGOING_REQUESTS: Final = 10_000.0
SERVE_HANDLE_PREFIX: Final = "serve:"  # the handle of a Ray Serve application: serve:NAME


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
    """One replica process: where it listens and how to find it again (pid + start time);
    or, on a ray compute, the deployment's Ray Serve application: its name as the handle and
    its route behind Serve's proxy as `url` (Ray places, restarts and scales its replicas)."""

    index: int
    port: int
    handle: str  # ProcessHandle.to_string(); a Serve application: SERVE_HANDLE_PREFIX + name
    url: str | None = None

    @property
    def process(self) -> ProcessHandle:
        return ProcessHandle.parse(self.handle)

    @property
    def serve_application(self) -> str | None:
        """The Ray Serve application's name, or None for a local process."""
        if self.handle.startswith(SERVE_HANDLE_PREFIX):
            return self.handle.removeprefix(SERVE_HANDLE_PREFIX)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "port": self.port, "handle": self.handle, "url": self.url}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicaHandle:
        url = data.get("url")  # absent in what was written before ray deployments
        return cls(
            int(data["index"]), int(data["port"]), str(data["handle"]), str(url) if url else None
        )


@dataclass(frozen=True)
class Autoscaling:
    """Ray Serve's autoscaling: between `min_replicas` and `max_replicas` replicas, as many as
    keep about `target_ongoing_requests` requests in flight on each."""

    min_replicas: int
    max_replicas: int
    target_ongoing_requests: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "target_ongoing_requests": self.target_ongoing_requests,
        }


class _Placement:
    """Where a deployment's replicas run and how many, as a request and a deployment both
    say it."""

    compute: str
    min_replicas: int | None
    max_replicas: int | None
    target_ongoing_requests: float | None

    @property
    def on_cluster(self) -> bool:
        """On a ray compute (a Ray Serve application), not processes of this machine."""
        return self.compute != LOCAL_COMPUTE

    @property
    def autoscaling(self) -> Autoscaling | None:
        """Serve's autoscaling, with its defaults; None: a fixed number of replicas."""
        if self.max_replicas is None:
            return None
        return Autoscaling(
            DEFAULT_MIN_REPLICAS if self.min_replicas is None else self.min_replicas,
            self.max_replicas,
            DEFAULT_TARGET_ONGOING_REQUESTS
            if self.target_ongoing_requests is None
            else self.target_ongoing_requests,
        )


@dataclass(frozen=True)
class DeploymentRequest(_Placement):
    """What a deploy asks for; `check()` refuses what is wrong in itself, before anything runs.
    `compute` is `local` (replica processes on this machine) or a ray compute's name (a Ray
    Serve application on its cluster), whose replicas may autoscale: `max_replicas` turns
    autoscaling on."""

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
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_ongoing_requests: float | None = None

    def check(self) -> DeploymentRequest:
        """The request as it will be recorded (autoscaling's defaults filled in), or a
        one-line InvalidValue naming the bad value and the fix."""
        validate_endpoint_name(self.endpoint)
        validate_deployment_name(self.name)
        validate_compute_name(self.compute)
        if not self.model.strip():
            raise InvalidValue("a deployment needs a model: --model NAME:VERSION or NAME@ALIAS")
        limit = MAX_CLUSTER_REPLICAS if self.on_cluster else MAX_REPLICAS
        if not 1 <= self.replicas <= limit:
            raise InvalidValue(f"--replicas must be 1–{limit}, not {self.replicas}")
        for label, value in (("--cpu-cores", self.cpu_cores), ("--memory-gb", self.memory_gb)):
            if not (math.isfinite(value) and value > 0):
                raise InvalidValue(f"{label} must be a positive number, not {value}")
        if self.source_directory and not self.entry_script:
            raise InvalidValue("--source-directory needs --entry-script (the score.py in it)")
        return self._checked_autoscaling()

    def _checked_autoscaling(self) -> DeploymentRequest:
        given = (self.min_replicas, self.max_replicas, self.target_ongoing_requests)
        if all(value is None for value in given):
            return self
        if not self.on_cluster:
            raise InvalidValue(
                "autoscaling (--min-replicas, --max-replicas, --target-ongoing-requests) needs a"
                " ray compute; fix: --compute RAY_COMPUTE, or a fixed --replicas N on local"
            )
        if self.max_replicas is None:
            raise InvalidValue(
                "--min-replicas and --target-ongoing-requests need --max-replicas: autoscaling"
                " runs between --min-replicas and --max-replicas"
            )
        if self.replicas != 1:
            raise InvalidValue(
                f"--replicas {self.replicas} is a fixed count, and autoscaling decides the count;"
                " fix: give --replicas N, or --min-replicas/--max-replicas, not both"
            )
        wanted = self.autoscaling
        assert wanted is not None  # max_replicas is set
        scaling = _checked_bounds(
            wanted.min_replicas, wanted.max_replicas, wanted.target_ongoing_requests
        )
        return replace(
            self,
            min_replicas=scaling.min_replicas,
            target_ongoing_requests=scaling.target_ongoing_requests,
        )


def _checked_bounds(minimum: int, maximum: int, target: float) -> Autoscaling:
    if not 1 <= maximum <= MAX_CLUSTER_REPLICAS:
        raise InvalidValue(f"--max-replicas must be 1–{MAX_CLUSTER_REPLICAS}, not {maximum}")
    if not 0 <= minimum <= maximum:
        raise InvalidValue(
            f"--min-replicas {minimum} must be 0–{maximum} (--max-replicas);"
            " fix: lower --min-replicas or raise --max-replicas"
        )
    if not (math.isfinite(target) and 0 < target <= MAX_TARGET_ONGOING_REQUESTS):
        raise InvalidValue(
            f"--target-ongoing-requests must be above 0 and at most"
            f" {MAX_TARGET_ONGOING_REQUESTS:g}, not {target}; e.g. 2 (Ray Serve's default)"
        )
    return Autoscaling(minimum, maximum, float(target))


@dataclass(frozen=True)
class Deployment(_Placement):
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
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_ongoing_requests: float | None = None

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
            min_replicas=_optional(data.get("min_replicas"), int),
            max_replicas=_optional(data.get("max_replicas"), int),
            target_ongoing_requests=_optional(data.get("target_ongoing_requests"), float),
        )

    def to_request(self, **changes: Any) -> DeploymentRequest:
        """This deployment asked for again (an update, an alias roll), with `changes`."""
        request = DeploymentRequest(
            endpoint=self.endpoint,
            name=self.name,
            model=self.model,
            entry_script=self.entry_script,
            source_directory=self.source_directory,
            environment=self.environment,
            compute=self.compute,
            replicas=self.replicas,
            cpu_cores=self.cpu_cores,
            memory_gb=self.memory_gb,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            target_ongoing_requests=self.target_ongoing_requests,
        )
        return replace(request, **changes)

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
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "target_ongoing_requests": self.target_ongoing_requests,
            "cpu_cores": self.cpu_cores,
            "memory_gb": self.memory_gb,
            "state": self.state.value,
            "error": self.error,
            "replica_handles": [r.to_dict() for r in self.replica_handles],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _optional(value: Any, kind: Callable[[Any], T]) -> T | None:
    return None if value is None else kind(value)


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
    how to start it again on the same port if it dies. One with a `url` is a Ray Serve
    application's route, not a process of this machine: the front sends to the url, and the
    supervisor leaves it to Ray, which restarts Serve's replicas itself."""

    deployment: str
    index: int
    port: int
    handle: str
    argv: tuple[str, ...]
    log: str
    url: str | None = None

    @property
    def base_url(self) -> str:
        return self.url or f"http://{LOOPBACK}:{self.port}"

    @property
    def supervised(self) -> bool:
        """A local process, started again by the endpoint's supervisor when it dies."""
        return self.url is None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "argv": list(self.argv)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutedReplica:
        url = data.get("url")  # absent in routing files written before ray deployments
        return cls(
            str(data["deployment"]),
            int(data["index"]),
            int(data["port"]),
            str(data["handle"]),
            tuple(data["argv"]),
            str(data["log"]),
            str(url) if url else None,
        )

    def handle_record(self) -> ReplicaHandle:
        return ReplicaHandle(self.index, self.port, self.handle, self.url)


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
