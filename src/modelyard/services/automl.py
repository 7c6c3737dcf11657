"""AutoML for tables and for images: the config and the data checked here, then the trainer
submitted as a built-in job (a run in an experiment on a compute target), like the image
trainer. An `AutoMLConfig` with task image-classification is the images' search
(`ImageAutoMLConfig`), as Azure's SDK takes both through one class."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from modelyard.entities import Run, RunSource
from modelyard.entities.registry import ModelVersion, ModelVersionRequest
from modelyard.errors import InvalidValue, NotFound
from modelyard.extras import require_extra
from modelyard.services import models, training
from modelyard.services.job_inputs import data_goes_with_the_job, resolve_data_argument
from modelyard.services.jobs import ModuleJob, submit
from modelyard.services.workspaces import OpenWorkspace
from modelyard.tabular.config import AutoMLConfig
from modelyard.vision.automl_config import IMAGE_CLASSIFICATION_TASK, ImageAutoMLConfig

AUTOML_MODULE: Final = "modelyard.builtin_jobs.automl_tables"
AUTOML_TITLE: Final = "AutoML for tables (built-in)"
IMAGE_AUTOML_MODULE: Final = "modelyard.builtin_jobs.automl_images"
IMAGE_AUTOML_TITLE: Final = "AutoML for images (built-in)"
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
    table in its snapshot; one on this machine reads it where it is. Task image-classification
    is AutoML for images (`submit_image_automl`)."""
    if config.task == IMAGE_CLASSIFICATION_TASK:
        return submit_image_automl(ws, experiment, image_config_of(config), display_name, user)
    given = config.training_data
    local_data, read = resolve_data_argument(ws, given)
    config = replace(config, training_data=local_data)
    job = automl_job(ws, experiment, config, display_name, given if read else None)
    return submit(ws, job, user=user, data_inputs=read)


def automl_job(
    ws: OpenWorkspace,
    experiment: str,
    config: AutoMLConfig,
    display_name: str | None = None,
    given: str | None = None,
) -> ModuleJob:
    """The tables' job of a config whose data (a table, or a folder of one) is on this
    machine, checked first (`given`: the data reference as the user gave it, for the run's
    source); what `submit_automl` and a pipeline's automl step submit."""
    require_extra("automl", "AutoML for tables")
    from modelyard.tabular.table import check_label_column, read_table

    config = replace(config, training_data=str(_table_in(Path(config.training_data))))
    config = config.validated()
    table = Path(config.training_data)
    check_label_column(read_table(table), config.label_column_name)
    files: dict[str, bytes] = {}
    if data_goes_with_the_job(ws, config.compute_target):
        files[f"{DATA_FOLDER}/{table.name}"] = table.read_bytes()
        config = replace(config, training_data=f"{DATA_FOLDER}/{table.name}")
    files[CONFIG_FILE] = json.dumps(config.to_dict(), indent=2, sort_keys=True).encode()
    return ModuleJob(
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
                given or str(table),
                "--label",
                config.label_column_name,
            ),
        ),
    )


def _table_in(path: Path) -> Path:
    """A table data asset's file: the path itself, or the one table in its folder."""
    if not path.is_dir():
        return path
    tables = [file for file in path.iterdir() if file.suffix.lower() in (".csv", ".tsv")]
    if len(tables) != 1:
        raise InvalidValue(
            f"data folder {str(path)!r} holds {len(tables)} tables (.csv, .tsv): AutoML for"
            " tables reads one; version the table file itself (--type uri_file)",
            path=str(path),
        )
    return tables[0]


def submit_image_automl(
    ws: OpenWorkspace,
    experiment: str,
    config: ImageAutoMLConfig,
    display_name: str | None = None,
    user: str | None = None,
) -> Run:
    """Check the search and the images' folder before any run exists, then queue the job,
    with the workspace's caches (or, for a job on another machine, the images in its
    snapshot and that machine's caches), as `modelyard train image-classification` does."""
    given = config.data
    local_data, read = resolve_data_argument(ws, given)
    config = replace(config, data=local_data)
    job = image_automl_job(ws, experiment, config, display_name, given if read else None)
    return submit(ws, job, user=user, data_inputs=read)


def image_automl_job(
    ws: OpenWorkspace,
    experiment: str,
    config: ImageAutoMLConfig,
    display_name: str | None = None,
    given: str | None = None,
) -> ModuleJob:
    """The images' search of a config whose folder is on this machine, checked first; what
    `submit_image_automl` and a pipeline's automl step (task image_classification) submit."""
    require_extra("vision", "AutoML for images")
    from modelyard.vision.dataset import check_before_submission

    config = config.validated()
    check_before_submission(Path(config.data))
    source = RunSource(
        script=IMAGE_AUTOML_TITLE,
        arguments=("--task", IMAGE_CLASSIFICATION_TASK, "--data", given or config.data),
    )
    display_name = display_name or _image_run_name(config, datetime.now())
    return training.image_job(ws, experiment, IMAGE_AUTOML_MODULE, config, display_name, source)


def image_config_of(config: AutoMLConfig) -> ImageAutoMLConfig:
    """Azure's AutoMLConfig for task image-classification as the images' search: the folder,
    the budget, the allowed and blocked backbones; the tables' options are refused."""
    tables_only = {
        "label_column_name": config.label_column_name or None,
        "n_cross_validations": config.n_cross_validations,
        "validation": None if config.validation == "auto" else config.validation,
    }
    given = [name for name, value in tables_only.items() if value is not None]
    if given:
        raise InvalidValue(
            f"{', '.join(given)} {'are' if len(given) > 1 else 'is'} for tables: image"
            " classification takes a folder with one sub-folder per label and validates on"
            " held-out images; leave it out",
            options=given,
        )
    return ImageAutoMLConfig(
        data=config.training_data,
        time_budget_s=config.budget_s,
        allowed_backbones=config.allowed_models,
        blocked_backbones=tuple(config.blocked_models),
        primary_metric=config.primary_metric or "accuracy",
        compute_target=config.compute_target,
    )


def _image_run_name(config: ImageAutoMLConfig, now: datetime) -> str:
    """ "flowers image-classification Dec 06 14:05": the folder, the task and the minute."""
    return f"{Path(config.data).name or 'images'} {IMAGE_CLASSIFICATION_TASK} {now:%b %d %H:%M}"


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
    """The completed run's outputs (bestModel.onnx, its schema or label map, the reports) as
    the next version of `name`, with the run as lineage; an image model's framework (the run
    is AutoML for images) is recognised from its outputs, as a training run's is."""
    images = ws.store.get_run(run_id).source.script == IMAGE_AUTOML_TITLE
    request = ModelVersionRequest(name, framework=None if images else TABULAR_FRAMEWORK)
    return models.register_run_model(ws, run_id, request)
