"""Experiments: list, register by name, show, delete (with their runs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from modelyard.entities import Caller, limits
from modelyard.server.deps import Contributor, Reader, workspace_of
from modelyard.services.authorization import check_may_delete_experiment
from modelyard.services.experiments import delete_experiment

router = APIRouter(tags=["experiments"])


class ExperimentIn(BaseModel):
    name: Annotated[str, Field(max_length=limits.EXPERIMENT_NAME_MAX)]


@router.get("/experiments", dependencies=[Reader])
def list_experiments(request: Request) -> list[dict[str, Any]]:
    return [e.to_dict() for e in workspace_of(request).store.list_experiments()]


@router.post("/experiments", dependencies=[Contributor])
def get_or_create_experiment(body: ExperimentIn, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_or_create_experiment(body.name).to_dict()


@router.get("/experiments/{name}", dependencies=[Reader])
def get_experiment(name: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_experiment(name).to_dict()


@router.delete("/experiments/{name}")
def remove_experiment(name: str, request: Request, caller: Caller = Contributor) -> dict[str, Any]:
    ws = workspace_of(request)
    check_may_delete_experiment(ws, caller, name)
    return {"deleted_runs": delete_experiment(ws, name)}
