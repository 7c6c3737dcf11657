"""Compute targets: named pools of nodes with a size and a priority, as Azure ML has them.

A compute's provisioning states and their transitions are defined here once, as are the size
catalog and what makes a request wrong in itself (refused, nothing created) as opposed to a
request that fails while provisioning (a Failed compute that keeps its name).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelyard.entities.names import validate_compute_name
from modelyard.errors import InvalidTransition, InvalidValue

LOCAL = "local"  # the compute every workspace has: a process per job on this host, no limit


class ComputeType(StrEnum):
    LOCAL = "local"
    RAY = "ray"

    @classmethod
    def parse(cls, value: str) -> ComputeType:
        try:
            return cls(value.strip().lower())
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise InvalidValue(
                f"compute type {value!r} is not known: use one of {known}", type=value
            ) from None


class Priority(StrEnum):
    DEDICATED = "dedicated"
    LOW_PRIORITY = "low-priority"

    @classmethod
    def parse(cls, value: str) -> Priority:
        """Accepts Azure's spellings too: `lowpriority` (v1 SDK), `low_priority` (v2 YAML)."""
        spelled = value.strip().lower().replace("_", "-")
        if spelled == "lowpriority":
            spelled = cls.LOW_PRIORITY.value
        try:
            return cls(spelled)
        except ValueError:
            raise InvalidValue(
                f"priority {value!r} is not known: use dedicated or low-priority", priority=value
            ) from None

    @property
    def preemptible(self) -> bool:
        return self is Priority.LOW_PRIORITY


class ProvisioningState(StrEnum):
    CREATING = "Creating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    DELETING = "Deleting"

    def can_become(self, target: ProvisioningState) -> bool:
        return target in PROVISIONING_TRANSITIONS[self]

    def check_transition(self, target: ProvisioningState, compute: str) -> None:
        if not self.can_become(target):
            allowed = ", ".join(sorted(s.value for s in PROVISIONING_TRANSITIONS[self])) or "none"
            raise InvalidTransition(
                f"compute {compute} cannot go from {self.value} to {target.value}:"
                f" from {self.value} it may only become {allowed}",
                compute=compute,
                current=self.value,
                target=target.value,
            )

    @property
    def accepts_jobs(self) -> bool:
        return self is ProvisioningState.SUCCEEDED


PROVISIONING_TRANSITIONS: dict[ProvisioningState, frozenset[ProvisioningState]] = {
    ProvisioningState.CREATING: frozenset({ProvisioningState.SUCCEEDED, ProvisioningState.FAILED}),
    # A compute that stops answering (its Ray head died) turns Failed and fails its queue.
    ProvisioningState.SUCCEEDED: frozenset({ProvisioningState.DELETING, ProvisioningState.FAILED}),
    ProvisioningState.FAILED: frozenset({ProvisioningState.DELETING}),
    # A delete that could not stop its jobs leaves the compute Failed, with the reason.
    ProvisioningState.DELETING: frozenset({ProvisioningState.FAILED}),
}


@dataclass(frozen=True)
class ComputeSize:
    """A VM size as Azure lists it (`az vm list-sizes`, Azure ML's `list-sizes`)."""

    name: str
    vcpus: int
    memory_gib: float
    temp_storage_gib: int
    gpus: int = 0
    gpu_memory_gib: int = 0
    max_data_disks: int = 4
    max_nics: int = 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vcpus": self.vcpus,
            "memory_gib": self.memory_gib,
            "temp_storage_gib": self.temp_storage_gib,
            "gpus": self.gpus,
            "gpu_memory_gib": self.gpu_memory_gib,
            "max_data_disks": self.max_data_disks,
            "max_nics": self.max_nics,
        }


# Azure's own figures for its sizes; the small CPU sizes fit a laptop.
SIZES: dict[str, ComputeSize] = {
    size.name.lower(): size
    for size in (
        ComputeSize("Standard_DS1_v2", 1, 3.5, 7, max_data_disks=4, max_nics=2),
        ComputeSize("Standard_DS2_v2", 2, 7, 14, max_data_disks=8, max_nics=2),
        ComputeSize("Standard_DS3_v2", 4, 14, 28, max_data_disks=16, max_nics=4),
        ComputeSize("Standard_DS4_v2", 8, 28, 56, max_data_disks=32, max_nics=8),
        ComputeSize("Standard_DS11_v2", 2, 14, 28, max_data_disks=8, max_nics=2),
        ComputeSize("Standard_DS12_v2", 4, 28, 56, max_data_disks=16, max_nics=4),
        ComputeSize("Standard_NC6", 6, 56, 340, 1, 12, 24, 1),
        ComputeSize("Standard_NC12", 12, 112, 680, 2, 24, 48, 2),
        ComputeSize("Standard_NC24", 24, 224, 1440, 4, 48, 64, 4),
    )
}

DEFAULT_SIZE = "Standard_DS1_v2"
TEXT_MAX = 1024  # an address or a description, as the computes table holds them


def find_size(name: str) -> ComputeSize:
    size = SIZES.get(name.strip().lower())
    if size is None:
        raise InvalidValue(
            f"size {name!r} is not in the catalog: see `modelyard compute list-sizes`,"
            f" for example {DEFAULT_SIZE}",
            size=name,
        )
    return size


@dataclass(frozen=True)
class ComputeRequest:
    """What a user asks for. `check()` refuses what is wrong in itself; provisioning may
    still fail on what the host or the cluster lacks."""

    name: str
    type: ComputeType = ComputeType.LOCAL
    size: str = DEFAULT_SIZE
    priority: Priority = Priority.DEDICATED
    min_nodes: int = 0
    max_nodes: int = 1
    idle_seconds_before_scaledown: int = 1800
    address: str | None = None
    description: str | None = None

    def check(self) -> ComputeRequest:
        validate_compute_name(self.name)
        if self.name == LOCAL:
            raise InvalidValue(
                f"compute name {LOCAL!r} is the workspace's built-in compute: choose another name",
                compute=self.name,
            )
        size = find_size(self.size)
        for label, value in (("--min-nodes", self.min_nodes), ("--max-nodes", self.max_nodes)):
            if not 0 <= value <= 1000:
                raise InvalidValue(
                    f"{label} {value} is out of range: use 0 to 1000", compute=self.name
                )
        if self.max_nodes < 1:
            raise InvalidValue(
                f"--max-nodes {self.max_nodes} leaves compute {self.name} no node to run on:"
                " use 1 or more",
                compute=self.name,
            )
        if self.min_nodes > self.max_nodes:
            raise InvalidValue(
                f"--min-nodes {self.min_nodes} is more than --max-nodes {self.max_nodes}:"
                " min must be at most max",
                compute=self.name,
            )
        if not 0 <= self.idle_seconds_before_scaledown <= 7 * 24 * 3600:
            raise InvalidValue(
                f"--idle-seconds-before-scaledown {self.idle_seconds_before_scaledown} is out"
                " of range: use 0 to 604800 (a week)",
                compute=self.name,
            )
        for label, text in (("--address", self.address), ("--description", self.description)):
            if text is not None and len(text) > TEXT_MAX:
                raise InvalidValue(
                    f"{label} is {len(text)} characters long: use at most {TEXT_MAX}",
                    compute=self.name,
                )
        if self.type is ComputeType.RAY and not self.address:
            raise InvalidValue(
                f"a ray compute needs its cluster's address: add --address"
                f" http://HOST:8265 to create {self.name}",
                compute=self.name,
            )
        if self.type is ComputeType.LOCAL and self.address:
            raise InvalidValue(
                f"--address {self.address!r} is for ray computes: a local compute runs on this"
                " host; drop --address or use --type ray",
                compute=self.name,
            )
        return replace(self, size=size.name)


@dataclass(frozen=True)
class ComputeTarget:
    name: str
    type: ComputeType
    size: str | None  # None: the built-in local compute, which asks for no resources
    priority: Priority
    min_nodes: int
    max_nodes: int | None  # None: no limit (the built-in local compute)
    idle_seconds_before_scaledown: int
    state: ProvisioningState
    created_at: datetime
    address: str | None = None
    description: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def built_in(self) -> bool:
        return self.name == LOCAL

    @property
    def size_spec(self) -> ComputeSize | None:
        return None if self.size is None else find_size(self.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "size": self.size,
            "priority": self.priority.value,
            "min_nodes": self.min_nodes,
            "max_nodes": self.max_nodes,
            "idle_seconds_before_scaledown": self.idle_seconds_before_scaledown,
            "state": self.state.value,
            "created_at": self.created_at.isoformat(),
            "address": self.address,
            "description": self.description,
            "errors": list(self.errors),
            "built_in": self.built_in,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComputeTarget:
        return cls(
            name=data["name"],
            type=ComputeType(data["type"]),
            size=data.get("size"),
            priority=Priority(data["priority"]),
            min_nodes=int(data["min_nodes"]),
            max_nodes=None if data.get("max_nodes") is None else int(data["max_nodes"]),
            idle_seconds_before_scaledown=int(data["idle_seconds_before_scaledown"]),
            state=ProvisioningState(data["state"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            address=data.get("address"),
            description=data.get("description"),
            errors=tuple(data.get("errors") or ()),
        )
