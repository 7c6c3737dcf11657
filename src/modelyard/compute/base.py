"""What every compute backend does: check a compute can exist, launch an admitted run, poll it,
stop it. Queues, admission, priority and preemption live in services, not in backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from modelyard.entities.compute import ComputeSize, ComputeTarget
from modelyard.entities.process import ProcessHandle as ProcessHandle  # the local handle


@dataclass(frozen=True)
class ReportingAccess:
    """How a job on a machine without the workspace's disk reports: the workspace server's URL
    and a token scoped to its run."""

    server_url: str
    token: str


@dataclass(frozen=True)
class LaunchRequest:
    """Everything a backend needs to start a run's supervisor."""

    run_id: str
    workspace_root: Path
    log_path: Path
    compute: ComputeTarget | None = None
    attempt: int = 1
    reporting: ReportingAccess | None = None
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> ComputeSize | None:
        return None if self.compute is None else self.compute.size_spec


class BackendState(StrEnum):
    """What a backend can say of one launched run."""

    PENDING = "pending"  # accepted, not started yet (Ray's PENDING)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    GONE = "gone"  # nothing of it is left and it did not say how it ended
    UNKNOWN = "unknown"  # this backend cannot tell from here (another host, a cluster away)


@dataclass(frozen=True)
class Capacity:
    """What a host or cluster has, for checks at creation and for sharing between computes."""

    cpus: float
    memory_gib: float
    gpus: int

    def lacks(self, size: ComputeSize) -> list[str]:
        """What `size` needs that this capacity lacks, in words; empty when it fits."""
        missing = []
        if size.gpus > self.gpus:
            missing.append(f"{size.gpus} GPUs (it has {self.gpus})")
        if size.vcpus > self.cpus:
            missing.append(f"{size.vcpus} CPUs (it has {self.cpus:g})")
        if size.memory_gib > self.memory_gib:
            missing.append(f"{size.memory_gib:g} GiB of memory (it has {self.memory_gib:.1f})")
        return missing


class ComputeBackend(Protocol):
    """One per compute type, made for one compute (`compute/__init__.py`'s registry)."""

    name: str

    def capacity(self) -> Capacity:
        """What the host or cluster has now; raises ComputeUnavailable when it does not answer."""
        ...

    def launch(self, request: LaunchRequest) -> str:
        """Start the run; return its handle, an opaque string only this backend reads."""
        ...

    def state(self, handle: str) -> BackendState: ...

    def cancel(self, handle: str, grace_s: float) -> bool:
        """Stop it (SIGTERM or the cluster's stop, then a kill after `grace_s`); True once
        nothing of it is left."""
        ...

    def read_log(self, handle: str) -> str | None:
        """The run's log as the backend keeps it (Ray's job log), or None where the run
        writes its log into the workspace itself (local)."""
        ...
