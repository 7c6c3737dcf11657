"""Compute targets: the request bodies of `routes/computes.py`, the catalog's sizes and the
computes' JSON (`entities/compute.py`, `services/computes.py` `ComputeDetails`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from modelyard.entities import limits
from modelyard.entities.compute import (
    DEFAULT_SIZE,
    ComputeRequest,
    ComputeType,
    Priority,
    ProvisioningState,
)
from modelyard.server.schemas.common import Number, ResponseModel, Timestamp
from modelyard.server.schemas.runs import Run

# As the compute's columns hold them (store/sql/models.py ComputeRow); the entity's own check
# (`ComputeRequest.check`) then names what is wrong with a value that fits.
ComputeName = Annotated[
    str, Field(min_length=limits.COMPUTE_NAME_MIN, max_length=limits.COMPUTE_NAME_MAX)
]
NodeCount = Annotated[int, Field(ge=0, le=1000)]
_TEXT_MAX = 1024


# Requests ---------------------------------------------------------------------------------------


class ComputeIn(BaseModel):
    name: ComputeName
    type: Annotated[str, Field(max_length=16)] = ComputeType.LOCAL.value
    size: Annotated[str, Field(min_length=1, max_length=64)] = DEFAULT_SIZE
    priority: Annotated[str, Field(max_length=16)] = Priority.DEDICATED.value
    min_nodes: NodeCount = 0
    max_nodes: NodeCount = 1
    idle_seconds_before_scaledown: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 1800
    address: Annotated[str, Field(min_length=1, max_length=_TEXT_MAX)] | None = None
    description: Annotated[str, Field(max_length=_TEXT_MAX)] | None = None

    def to_request(self) -> ComputeRequest:
        return ComputeRequest(
            name=self.name,
            type=ComputeType.parse(self.type),
            size=self.size,
            priority=Priority.parse(self.priority),
            min_nodes=self.min_nodes,
            max_nodes=self.max_nodes,
            idle_seconds_before_scaledown=self.idle_seconds_before_scaledown,
            address=self.address,
            description=self.description,
        )


class PreemptIn(BaseModel):
    run_id: Annotated[str, Field(max_length=limits.ID_MAX)] | None = None


# Responses --------------------------------------------------------------------------------------


class ComputeSize(ResponseModel):
    """A VM size as Azure lists it."""

    name: str
    vcpus: int
    memory_gib: Number
    temp_storage_gib: int
    gpus: int
    gpu_memory_gib: int
    max_data_disks: int
    max_nics: int


class Compute(ResponseModel):
    name: str
    type: ComputeType
    size: str | None = Field(description="null: the built-in local compute asks for nothing")
    priority: Priority
    min_nodes: int
    max_nodes: int | None = Field(description="null: no limit (the built-in local compute)")
    idle_seconds_before_scaledown: int
    state: ProvisioningState
    created_at: Timestamp
    address: str | None
    description: str | None
    errors: list[str] = Field(description="why provisioning failed, for a Failed compute")
    built_in: bool


class ComputeDetails(Compute):
    """A compute with what it is doing: the runs holding its nodes, and its queue in order."""

    nodes_in_use: int
    running: list[Run]
    queue: list[Run]


class ComputeDeleted(ResponseModel):
    deleted: str
