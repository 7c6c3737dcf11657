"""Compute targets over the API: the size catalog, create (and provision), list, show with the
queue, delete, preempt; and a run's earlier attempts.

Who may do what, as Azure's workspace roles have it: readers read; contributors create
computes and preempt low-priority jobs (an eviction drill, the runs resume); deleting a compute,
which cancels whatever runs on it with --force, is for admins. A compute whose provisioning
failed is answered (200) in its Failed state with its errors, as Azure lists it; creating its
name again is 409 COMPUTE_ERRORED.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.server.deps import Admin, Contributor, Reader, RunReader, workspace_of
from modelyard.server.schemas import computes as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.server.schemas.runs import Run, RunAttempt
from modelyard.services import computes
from modelyard.services import runs as run_service

router = APIRouter(tags=["computes"])


@router.get("/compute-sizes", dependencies=[Reader], response_model=list[schemas.ComputeSize])
def list_sizes() -> list[dict[str, Any]]:
    return [size.to_dict() for size in computes.list_sizes()]


@router.get("/computes", dependencies=[Reader], response_model=list[schemas.Compute])
def list_computes(request: Request) -> list[dict[str, Any]]:
    return [compute.to_dict() for compute in computes.list_computes(workspace_of(request))]


@router.post(
    "/computes",
    dependencies=[Contributor],
    response_model=schemas.Compute,
    responses=error_responses(409),
)
def create_compute(body: schemas.ComputeIn, request: Request) -> dict[str, Any]:
    """Create and provision; a compute that failed provisioning comes back Failed with its
    errors (and keeps its name until deleted)."""
    return computes.create_compute(workspace_of(request), body.to_request()).to_dict()


@router.get("/computes/{name}", dependencies=[Reader], response_model=schemas.ComputeDetails)
def show_compute(name: str, request: Request) -> dict[str, Any]:
    """The compute, the runs holding its nodes and its queue in order, each with why it
    waits."""
    return computes.compute_details(workspace_of(request), name).to_dict(full_runs=True)


@router.delete(
    "/computes/{name}",
    dependencies=[Admin],
    response_model=schemas.ComputeDeleted,
    responses=error_responses(409),
)
def delete_compute(name: str, request: Request, force: bool = False) -> dict[str, Any]:
    """Refused (409) while jobs are queued or running on it, unless `force`, which cancels
    them cleanly first."""
    computes.delete_compute(workspace_of(request), name, force=force)
    return {"deleted": name}


@router.post(
    "/computes/{name}/preempt",
    dependencies=[Contributor],
    response_model=list[Run],
    responses=error_responses(409),
)
def preempt(name: str, body: schemas.PreemptIn, request: Request) -> list[dict[str, Any]]:
    """Preempt the low-priority compute's running jobs (or `run_id` alone): each is stopped
    and queued again, and resumes from its checkpoints. The preempted runs are answered."""
    preempted = computes.preempt(workspace_of(request), name, body.run_id)
    return [run.to_dict() for run in preempted]


@router.get("/runs/{run_id}/attempts", dependencies=[RunReader], response_model=list[RunAttempt])
def list_attempts(run_id: str, request: Request) -> list[dict[str, Any]]:
    return [a.to_dict() for a in run_service.list_attempts(workspace_of(request), run_id)]
