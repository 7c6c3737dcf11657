"""Compute targets in Azure ML's v1 SDK words::

    config = AmlCompute.provisioning_configuration(vm_size="Standard_DS1_v2",
                                                   vm_priority="lowpriority", max_nodes=2)
    target = ComputeTarget.create(ws, "cpu-pool", config)
    target.wait_for_completion(show_output=True)   # provisioning is synchronous here
    ScriptRunConfig(".", "train.py", compute_target=target)

As in Azure, a compute that fails while provisioning is returned, not raised: its
`provisioning_state` is "Failed" and `provisioning_errors` says why; it keeps its name until
deleted. A request wrong in itself (bad name, unknown size, min > max) raises at once and
creates nothing. `ComputeTarget(workspace=ws, name="nope")` raises `NotFound` (Azure raises
its ComputeTargetException).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from modelyard.entities.compute import (
    DEFAULT_SIZE,
    ComputeRequest,
    ComputeType,
    Priority,
)
from modelyard.entities.compute import ComputeTarget as ComputeRecord
from modelyard.services import computes
from modelyard.services.workspaces import OpenWorkspace

_MIB_PER_GIB = 1024


class _HasOpenWorkspace(Protocol):
    """The SDK's `Workspace` (sdk/_objects.py), as far as a compute target needs it."""

    _opened: OpenWorkspace


@dataclass(frozen=True)
class AmlComputeProvisioningConfiguration:
    """What `AmlCompute.provisioning_configuration` returns: the request, unchecked until
    `ComputeTarget.create` (as Azure's is)."""

    vm_size: str = DEFAULT_SIZE
    vm_priority: str = "dedicated"
    min_nodes: int = 0
    max_nodes: int = 4
    idle_seconds_before_scaledown: int = 1800
    type: str = ComputeType.LOCAL.value
    address: str | None = None
    description: str | None = None

    def to_request(self, name: str) -> ComputeRequest:
        return ComputeRequest(
            name=name,
            type=ComputeType.parse(self.type),
            size=self.vm_size,
            priority=Priority.parse(self.vm_priority),
            min_nodes=self.min_nodes,
            max_nodes=self.max_nodes,
            idle_seconds_before_scaledown=self.idle_seconds_before_scaledown,
            address=self.address,
            description=self.description,
        )


@dataclass(frozen=True)
class ComputeTargetStatus:
    """What `ComputeTarget.get_status()` answers (Azure's AmlComputeStatus, in part)."""

    provisioning_state: str
    provisioning_errors: list[dict[str, str]]
    current_node_count: int
    max_node_count: int | None
    running_run_ids: list[str] = field(default_factory=list)
    queued_run_ids: list[str] = field(default_factory=list)

    def serialize(self) -> dict[str, Any]:
        return {
            "provisioningState": self.provisioning_state,
            "provisioningErrors": self.provisioning_errors,
            "currentNodeCount": self.current_node_count,
            "maxNodeCount": self.max_node_count,
            "runningRunIds": self.running_run_ids,
            "queuedRunIds": self.queued_run_ids,
        }


class ComputeTarget:
    """A named compute of a workspace; `ComputeTarget(workspace=ws, name=...)` gets it."""

    def __init__(self, workspace: _HasOpenWorkspace, name: str) -> None:
        self.workspace = workspace
        self._record = computes.get_compute(workspace._opened, name)

    @classmethod
    def _of(cls, workspace: _HasOpenWorkspace, record: ComputeRecord) -> ComputeTarget:
        target = cls.__new__(cls)
        target.workspace = workspace
        target._record = record
        return target

    @staticmethod
    def create(
        workspace: _HasOpenWorkspace,
        name: str,
        provisioning_configuration: AmlComputeProvisioningConfiguration,
    ) -> ComputeTarget:
        """Create and provision it; a compute that failed provisioning is returned Failed."""
        request = provisioning_configuration.to_request(name)
        return ComputeTarget._of(workspace, computes.create_compute(workspace._opened, request))

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def type(self) -> str:
        return self._record.type.value

    @property
    def vm_size(self) -> str | None:
        return self._record.size

    @property
    def vm_priority(self) -> str:
        """In Azure's v1 spelling: "dedicated" or "lowpriority"."""
        return self._record.priority.value.replace("-", "")

    @property
    def min_nodes(self) -> int:
        return self._record.min_nodes

    @property
    def max_nodes(self) -> int | None:
        return self._record.max_nodes

    @property
    def provisioning_state(self) -> str:
        return self._record.state.value

    @property
    def provisioning_errors(self) -> list[dict[str, str]]:
        """Each error as {"code", "message"}; empty when provisioning went well."""
        return [{"code": "ProvisioningFailed", "message": error} for error in self._record.errors]

    def refresh_state(self) -> None:
        self._record = computes.get_compute(self.workspace._opened, self.name)

    def wait_for_completion(
        self,
        show_output: bool = False,
        timeout_in_minutes: float = 20,
        stream: TextIO | None = None,
    ) -> None:
        """Provisioning ends before `create` returns here, so this only reports: the state and,
        for a Failed compute, its errors (as Azure prints them; it does not raise)."""
        self.refresh_state()
        if not show_output:
            return
        out = stream or sys.stdout
        out.write(f"Provisioning state: {self.provisioning_state}\n")
        for error in self._record.errors:
            out.write(f"Provisioning error: {error}\n")
        out.flush()

    def get_status(self) -> ComputeTargetStatus:
        details = computes.compute_details(self.workspace._opened, self.name)
        self._record = details.compute
        return ComputeTargetStatus(
            provisioning_state=self.provisioning_state,
            provisioning_errors=self.provisioning_errors,
            current_node_count=details.nodes_in_use,
            max_node_count=self._record.max_nodes,
            running_run_ids=[run.id for run in details.running],
            queued_run_ids=[run.id for run in details.queued],
        )

    def delete(self, force: bool = False) -> None:
        """Delete it; refused while jobs are queued or running on it, unless `force`."""
        computes.delete_compute(self.workspace._opened, self.name, force=force)

    def serialize(self) -> dict[str, Any]:
        return self._record.to_dict()

    def __repr__(self) -> str:
        return (
            f"ComputeTarget(name={self.name!r}, type={self.type!r}, vm_size={self.vm_size!r},"
            f" provisioning_state={self.provisioning_state!r})"
        )


class AmlCompute(ComputeTarget):
    """Azure's managed cluster class; here its configuration and size catalog."""

    @staticmethod
    def provisioning_configuration(
        vm_size: str = DEFAULT_SIZE,
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int = 4,
        idle_seconds_before_scaledown: int = 1800,
        type: str = ComputeType.LOCAL.value,
        address: str | None = None,
        description: str | None = None,
    ) -> AmlComputeProvisioningConfiguration:
        return AmlComputeProvisioningConfiguration(
            vm_size=vm_size,
            vm_priority=vm_priority,
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            idle_seconds_before_scaledown=idle_seconds_before_scaledown,
            type=type,
            address=address,
            description=description,
        )

    @staticmethod
    def supported_vmsizes(
        workspace: _HasOpenWorkspace | None = None, location: str | None = None
    ) -> list[dict[str, Any]]:
        """The size catalog in Azure's keys (name, vCPUs, gpus, memoryGB, maxResourceVolumeMB)
        plus the GPU memory, data disks and NICs of `modelyard compute list-sizes`."""
        return [
            {
                "name": size.name,
                "vCPUs": size.vcpus,
                "gpus": size.gpus,
                "memoryGB": size.memory_gib,
                "maxResourceVolumeMB": size.temp_storage_gib * _MIB_PER_GIB,
                "gpuMemoryGB": size.gpu_memory_gib,
                "maxDataDiskCount": size.max_data_disks,
                "maxNetworkInterfaces": size.max_nics,
            }
            for size in computes.list_sizes()
        ]


def compute_targets(workspace: _HasOpenWorkspace) -> dict[str, ComputeTarget]:
    """`ws.compute_targets`: every compute by name, the built-in `local` included."""
    return {
        record.name: ComputeTarget._of(workspace, record)
        for record in computes.list_computes(workspace._opened)
    }
