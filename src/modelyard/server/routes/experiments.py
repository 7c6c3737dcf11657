"""Experiments: list, register by name, show, delete (with their runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from modelyard.server.deps import workspace_of
from modelyard.services.experiments import delete_experiment

router = APIRouter(tags=["experiments"])


class ExperimentIn(BaseModel):
    name: str


@router.get("/experiments")
def list_experiments(request: Request) -> list[dict[str, Any]]:
    return [e.to_dict() for e in workspace_of(request).store.list_experiments()]


@router.post("/experiments")
def get_or_create_experiment(body: ExperimentIn, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_or_create_experiment(body.name).to_dict()


@router.get("/experiments/{name}")
def get_experiment(name: str, request: Request) -> dict[str, Any]:
    return workspace_of(request).store.get_experiment(name).to_dict()


@router.delete("/experiments/{name}")
def remove_experiment(name: str, request: Request) -> dict[str, Any]:
    return {"deleted_runs": delete_experiment(workspace_of(request), name)}
