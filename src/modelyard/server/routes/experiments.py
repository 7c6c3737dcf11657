"""Experiments: list, register by name, show, delete (with their runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.entities import Caller
from modelyard.server.deps import Contributor, Reader, workspace_of
from modelyard.server.schemas import experiments as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.services.authorization import check_may_delete_experiment
from modelyard.services.experiments import delete_experiment

router = APIRouter(tags=["experiments"])


@router.get("/experiments", dependencies=[Reader], response_model=list[schemas.Experiment])
def list_experiments(request: Request) -> list[dict[str, Any]]:
    return [e.to_dict() for e in workspace_of(request).store.list_experiments()]


@router.post("/experiments", dependencies=[Contributor], response_model=schemas.Experiment)
def get_or_create_experiment(body: schemas.ExperimentIn, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_or_create_experiment(body.name).to_dict()


@router.get("/experiments/{name}", dependencies=[Reader], response_model=schemas.Experiment)
def get_experiment(name: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_experiment(name).to_dict()


@router.delete(
    "/experiments/{name}",
    response_model=schemas.ExperimentDeleted,
    responses=error_responses(409),
)
def remove_experiment(name: str, request: Request, caller: Caller = Contributor) -> dict[str, Any]:
    ws = workspace_of(request)
    check_may_delete_experiment(ws, caller, name)
    return {"deleted_runs": delete_experiment(ws, name)}
