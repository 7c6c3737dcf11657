"""Experiment use-cases: the ones that touch more than the metadata store."""

from __future__ import annotations

from modelyard.entities import Experiment
from modelyard.services.workspaces import OpenWorkspace


def delete_experiment(ws: OpenWorkspace, name: str) -> list[str]:
    """Delete the experiment, its runs and their artifacts; its name is free again at once."""
    run_ids = ws.store.delete_experiment(name)
    for run_id in run_ids:
        ws.artifacts.delete_run(run_id)
    return run_ids


def list_experiments(ws: OpenWorkspace) -> list[Experiment]:
    return ws.store.list_experiments()


def get_experiment(ws: OpenWorkspace, name: str) -> Experiment:
    return ws.store.get_experiment(name)
