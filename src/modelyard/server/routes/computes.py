"""Compute targets over the API: the size catalog, create (and provision), list, show with the
queue, delete, preempt; and a run's earlier attempts.

Who may do what, as Azure's workspace roles have it: readers read; contributors create
computes and preempt low-priority jobs (an eviction drill, the runs resume); deleting a compute,
which cancels whatever runs on it with --force, is for admins. A compute whose provisioning
failed is answered (200) in its Failed state with its errors, as Azure lists it; creating its
name again is 409 COMPUTE_ERRORED.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from modelyard.entities import limits
from modelyard.entities.compute import (
    DEFAULT_SIZE,
    ComputeRequest,
    ComputeType,
    Priority,
)
from modelyard.server.deps import Admin, Contributor, Reader, RunReader, workspace_of
from modelyard.services import computes
from modelyard.services import runs as run_service

router = APIRouter(tags=["computes"])

# As the compute's columns hold them (store/sql/models.py ComputeRow); the entity's own check
# (`ComputeRequest.check`) then names what is wrong with a value that fits.
ComputeName = Annotated[
    str, Field(min_length=limits.COMPUTE_NAME_MIN, max_length=limits.COMPUTE_NAME_MAX)
]
NodeCount = Annotated[int, Field(ge=0, le=1000)]
_TEXT_MAX = 1024


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


@router.get("/compute-sizes", dependencies=[Reader])
def list_sizes() -> list[dict[str, Any]]:
    return [size.to_dict() for size in computes.list_sizes()]


@router.get("/computes", dependencies=[Reader])
def list_computes(request: Request) -> list[dict[str, Any]]:
    return [compute.to_dict() for compute in computes.list_computes(workspace_of(request))]


@router.post("/computes", dependencies=[Contributor])
def create_compute(body: ComputeIn, request: Request) -> dict[str, Any]:
    """Create and provision; a compute that failed provisioning comes back Failed with its
    errors (and keeps its name until deleted)."""
    return computes.create_compute(workspace_of(request), body.to_request()).to_dict()


@router.get("/computes/{name}", dependencies=[Reader])
def show_compute(name: str, request: Request) -> dict[str, Any]:
    """The compute, the runs holding its nodes and its queue in order, each with why it
    waits."""
    return computes.compute_details(workspace_of(request), name).to_dict(full_runs=True)


@router.delete("/computes/{name}", dependencies=[Admin])
def delete_compute(name: str, request: Request, force: bool = False) -> dict[str, Any]:
    """Refused (409) while jobs are queued or running on it, unless `force`, which cancels
    them cleanly first."""
    computes.delete_compute(workspace_of(request), name, force=force)
    return {"deleted": name}


@router.post("/computes/{name}/preempt", dependencies=[Contributor])
def preempt(name: str, body: PreemptIn, request: Request) -> list[dict[str, Any]]:
    """Preempt the low-priority compute's running jobs (or `run_id` alone): each is stopped
    and queued again, and resumes from its checkpoints. The preempted runs are answered."""
    preempted = computes.preempt(workspace_of(request), name, body.run_id)
    return [run.to_dict() for run in preempted]


@router.get("/runs/{run_id}/attempts", dependencies=[RunReader])
def list_attempts(run_id: str, request: Request) -> list[dict[str, Any]]:
    return [a.to_dict() for a in run_service.list_attempts(workspace_of(request), run_id)]
