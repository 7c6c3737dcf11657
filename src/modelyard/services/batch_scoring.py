"""Batch scoring as a built-in job: checked here, submitted like any job, its predictions
downloaded at the end.

Where the output goes: the job writes `outputs/predictions.jsonl` in its run (it may run on a
machine without this disk: a Ray node, a workspace server), and `--output` is the local copy,
downloaded once the run has completed and renamed into place, so that a preempted, failed or
canceled run never leaves a half-written file at `--output`. Everything that can be refused is
refused before the run exists: an unknown model, a model the no-code scorer cannot score, a
missing or empty data folder, an output in a folder that does not exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Final

from modelyard.entities import Run, RunSource, RunStatus
from modelyard.entities.compute import ComputeType
from modelyard.errors import InvalidValue, NotFound
from modelyard.extras import require_extra
from modelyard.fileio import TEMP_PREFIX, storage_errors
from modelyard.services import models
from modelyard.services.jobs import ModuleJob, submit
from modelyard.services.workspaces import OpenWorkspace
from modelyard.serving.batch.config import NO_THRESHOLD, BatchScoreConfig
from modelyard.serving.batch.files import list_data_files
from modelyard.serving.batch.ledger import PREDICTIONS_FILE

BATCH_SCORE_MODULE: Final = "modelyard.builtin_jobs.batch_score"
BATCH_SCORE_TITLE: Final = "batch scoring (built-in)"
DEFAULT_EXPERIMENT: Final = "batch-score"
CONFIG_FILE: Final = "config.json"
PREDICTIONS_ARTIFACT: Final = f"outputs/{PREDICTIONS_FILE}"
# Inside the snapshot of a job that runs where this disk is not (a Ray node, a server).
DATA_FOLDER: Final = "data"
MODEL_FOLDER: Final = "model"
# What the job imports to score (the serving extra without its HTTP server).
SCORING_MODULES: Final = ("onnxruntime", "PIL", "numpy")


def submit_batch_score(
    ws: OpenWorkspace,
    model: str,
    data: Path,
    experiment: str = DEFAULT_EXPERIMENT,
    compute_target: str = "local",
    error_threshold: str = NO_THRESHOLD,
    mini_batch_size: int | None = None,
    display_name: str | None = None,
    pause_s: float = 0.0,
    user: str | None = None,
) -> Run:
    """Check the model and the data, then queue the job that scores every file of `data`."""
    require_extra("serving", "batch scoring", modules=SCORING_MODULES)
    version = models.get_model_version(ws, model)
    reference = f"{version.name}:{version.version}"
    folder = _scorable_model_dir(ws, reference)
    job = batch_score_job(
        ws,
        folder,
        reference,
        data,
        experiment,
        compute_target,
        error_threshold,
        mini_batch_size,
        display_name,
        pause_s,
    )
    return submit(ws, job, user=user)


def batch_score_job(
    ws: OpenWorkspace,
    folder: Path,
    reference: str,
    data: Path,
    experiment: str = DEFAULT_EXPERIMENT,
    compute_target: str = "local",
    error_threshold: str = NO_THRESHOLD,
    mini_batch_size: int | None = None,
    display_name: str | None = None,
    pause_s: float = 0.0,
) -> ModuleJob:
    """The job scoring every file of `data` with the model in `folder` (`reference`: what the
    runs show of it): what `submit_batch_score` and a pipeline's batch_score step submit."""
    require_extra("serving", "batch scoring", modules=SCORING_MODULES)
    check_scorable_model(folder, reference)
    data = _data_folder(data)
    config = BatchScoreConfig(
        model=str(folder),
        model_reference=reference,
        data=str(data),
        error_threshold=error_threshold,
        pause_s=pause_s,
        **({} if mini_batch_size is None else {"mini_batch_size": mini_batch_size}),
    ).validated()
    folders: dict[str, Path] = {}
    if ws.server_url is not None or _runs_elsewhere(ws, compute_target):
        config = BatchScoreConfig(
            **{**config.to_dict(), "model": MODEL_FOLDER, "data": DATA_FOLDER}
        )
        folders = {MODEL_FOLDER: folder, DATA_FOLDER: data}
    return ModuleJob(
        experiment=experiment,
        module=BATCH_SCORE_MODULE,
        arguments=("--config", CONFIG_FILE),
        files={CONFIG_FILE: _config_bytes(config)},
        folders=folders,
        compute_target=compute_target,
        display_name=display_name or f"{reference} on {data.name} {datetime.now():%b %d %H:%M}",
        source=RunSource(
            script=BATCH_SCORE_TITLE, arguments=("--model", reference, "--data", str(data))
        ),
    )


def check_output_file(output: Path) -> None:
    """Refuse, before anything runs, an output the predictions could never be written to."""
    if output.is_dir():
        raise InvalidValue(
            f"--output {str(output)!r} is a folder: name a file in it, like"
            f" {str(output / 'preds.jsonl')!r}",
            path=str(output),
        )
    if not output.absolute().parent.is_dir():
        raise NotFound(
            f"--output {str(output)!r}: folder {str(output.absolute().parent)!r} does not exist;"
            " create it first",
            path=str(output),
        )


def download_predictions(ws: OpenWorkspace, run_id: str, destination: Path) -> bool:
    """The completed run's predictions written to `destination`, whole or not at all (a temp
    file beside it, renamed into place); False, nothing written, if the run did not complete."""
    if ws.store.get_run(run_id).status is not RunStatus.COMPLETED:
        return False
    temp = destination.absolute().parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    try:
        with (
            storage_errors(destination),
            ws.artifacts.open_read(run_id, PREDICTIONS_ARTIFACT) as source,
        ):
            with open(temp, "xb") as target:
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temp, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return True


def _scorable_model_dir(ws: OpenWorkspace, reference: str) -> Path:
    folder = models.model_dir(ws, reference)
    check_scorable_model(folder, reference)
    return folder


def check_scorable_model(folder: Path, reference: str) -> None:
    from modelyard.serving.image_model import holds_image_model  # NumPy: the serving extra's

    if not holds_image_model(folder):
        raise InvalidValue(
            f"model {reference} is not an image classifier batch scoring can run (it has neither"
            " MLModel.zip nor bestModel.onnx): register the outputs of an image-classification"
            " run",
            model=reference,
        )


def _data_folder(data: Path) -> Path:
    data = data.absolute()
    if not data.is_dir():
        raise NotFound(
            f"--data {str(data)!r} is not a folder: pass the folder of images to score",
            path=str(data),
        )
    if not list_data_files(data):
        raise InvalidValue(
            f"--data {str(data)!r} holds no files to score: pass the folder of images",
            path=str(data),
        )
    return data


def _runs_elsewhere(ws: OpenWorkspace, compute_target: str) -> bool:
    """Whether the compute runs its jobs on machines without this disk (any but `local`)."""
    return ws.compute_store.get_compute(compute_target).type is not ComputeType.LOCAL


def _config_bytes(config: BatchScoreConfig) -> bytes:
    return json.dumps(config.to_dict(), indent=2, sort_keys=True).encode()
