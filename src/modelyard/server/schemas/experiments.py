"""Experiments: the request body of `routes/experiments.py` and the experiments' JSON."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from modelyard.entities import limits
from modelyard.server.schemas.common import ResponseModel, Timestamp


class ExperimentIn(BaseModel):
    name: Annotated[str, Field(max_length=limits.EXPERIMENT_NAME_MAX)]


class Experiment(ResponseModel):
    id: str
    name: str
    created_at: Timestamp
    run_count: int


class ExperimentDeleted(ResponseModel):
    deleted_runs: list[str] = Field(description="the ids of the runs deleted with it")
