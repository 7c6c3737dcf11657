"""AutoML for tables: the config and the table checked here, then the trainer submitted as a
built-in job (a run in an experiment on a compute target), like the image trainer."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from modelyard.entities import Run, RunSource
from modelyard.entities.compute import ComputeType
from modelyard.entities.registry import ModelVersion, ModelVersionRequest
from modelyard.errors import NotFound
from modelyard.extras import require_extra
from modelyard.services import models
from modelyard.services.jobs import ModuleJob, submit
from modelyard.services.workspaces import OpenWorkspace
from modelyard.tabular.config import AutoMLConfig

AUTOML_MODULE: Final = "modelyard.builtin_jobs.automl_tables"
AUTOML_TITLE: Final = "AutoML for tables (built-in)"
CONFIG_FILE: Final = "config.json"
DATA_FOLDER: Final = "data"  # where a job run elsewhere finds its table, in its snapshot
LEADERBOARD_ARTIFACT: Final = "outputs/leaderboard.json"
TABULAR_FRAMEWORK: Final = "onnx-tabular"


def submit_automl(
    ws: OpenWorkspace,
    experiment: str,
    config: AutoMLConfig,
    display_name: str | None = None,
    user: str | None = None,
) -> Run:
    """Check the settings and the table (readable, with the label column) before any run
    exists, then queue the job. A job on another machine (a server's, a Ray node) gets the
    table in its snapshot; one on this machine reads it where it is."""
    require_extra("automl", "AutoML for tables")
    from modelyard.tabular.table import check_label_column, read_table

    config = config.validated()
    table = Path(config.training_data)
    check_label_column(read_table(table), config.label_column_name)
    files: dict[str, bytes] = {}
    if ws.server_url is not None or _runs_elsewhere(ws, config.compute_target):
        files[f"{DATA_FOLDER}/{table.name}"] = table.read_bytes()
        config = replace(config, training_data=f"{DATA_FOLDER}/{table.name}")
    files[CONFIG_FILE] = json.dumps(config.to_dict(), indent=2, sort_keys=True).encode()
    job = ModuleJob(
        experiment=experiment,
        module=AUTOML_MODULE,
        arguments=("--config", CONFIG_FILE),
        files=files,
        compute_target=config.compute_target,
        display_name=display_name or default_run_name(config, datetime.now()),
        source=RunSource(
            script=AUTOML_TITLE,
            arguments=(
                "--task",
                config.task,
                "--data",
                str(table),
                "--label",
                config.label_column_name,
            ),
        ),
    )
    return submit(ws, job, user=user)


def default_run_name(config: AutoMLConfig, now: datetime) -> str:
    """ "heart classification Dec 06 14:05": the table, the task and the minute."""
    return f"{Path(config.training_data).stem or 'table'} {config.task} {now:%b %d %H:%M}"


def read_leaderboard(ws: OpenWorkspace, run_id: str) -> dict[str, Any] | None:
    """The run's leaderboard (`outputs/leaderboard.json`), or None if it has none (yet)."""
    try:
        with ws.artifacts.open_read(run_id, LEADERBOARD_ARTIFACT) as handle:
            return dict(json.loads(handle.read()))
    except (NotFound, OSError, ValueError):
        return None


def register_best_model(ws: OpenWorkspace, run_id: str, name: str) -> ModelVersion:
    """The completed run's outputs (bestModel.onnx, its schema, the reports) as the next
    version of `name`, with the run as lineage."""
    request = ModelVersionRequest(name, framework=TABULAR_FRAMEWORK)
    return models.register_run_model(ws, run_id, request)


def _runs_elsewhere(ws: OpenWorkspace, compute: str) -> bool:
    return ws.compute_store.get_compute(compute).type is not ComputeType.LOCAL
