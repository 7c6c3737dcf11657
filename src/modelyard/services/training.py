"""Built-in training jobs: checked here, then submitted like any job (a run in an experiment)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from modelyard.entities import Run, RunSource, RunStatus
from modelyard.entities.data import is_data_reference, parse_data_reference
from modelyard.errors import InvalidValue, NotFound
from modelyard.extras import require_extra
from modelyard.fileio import folder_written_atomically
from modelyard.services.job_inputs import (
    data_goes_with_the_job,
    resolve_data_argument,
    resolve_validation_argument,
)
from modelyard.services.jobs import ModuleJob, submit
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.config import ALLOW_OUTSIDE_OPTION, ImageClassificationConfig

IMAGE_CLASSIFICATION_MODULE = "modelyard.builtin_jobs.image_classification"
IMAGE_CLASSIFICATION_TITLE = "image classification (built-in)"
CONFIG_FILE = "config.json"
TABLE_SUFFIXES = (".csv", ".tsv")  # a data set given as a table of image paths and labels
# Both caches live in the workspace and outlive runs: a retrain on the same images reads them.
FEATURE_CACHE_FOLDER = "features"
GUARDRAIL_CACHE_FOLDER = "guardrails"
# vision.guardrails.GUARDRAILS_FILE under outputs/, spelled out: reading a run's report needs
# no Pillow (the vision modules that check images are imported only to submit training).
GUARDRAILS_ARTIFACT = "outputs/guardrails.json"
DATA_FOLDER = "data"  # where a job sent to a server finds its images, inside its snapshot
VALIDATION_FOLDER = "validation_data"  # and its validation images, where it has any


def submit_image_classification(
    ws: OpenWorkspace,
    experiment: str,
    config: ImageClassificationConfig,
    display_name: str | None = None,
    user: str | None = None,
) -> Run:
    """Validate the config (paths made absolute) and queue the training job.

    In a workspace behind a server, or for a compute whose jobs run on other machines (Ray), the
    data goes with the job (copied into its snapshot, within the snapshot limits), as those
    machines cannot read this disk; `output` is refused there, as the job cannot write on this
    machine: download the run's `outputs` instead. A job on the server's own machine uses the
    workspace's caches, one on a Ray node the caches of that node (`builtin_jobs`).
    """
    require_extra("vision", "training an image classifier")
    local_data, read = resolve_data_argument(ws, config.data)
    local_validation, read_validation = resolve_validation_argument(ws, config.validation_data)
    given = config
    config = replace(config, data=local_data, validation_data=local_validation).validated()
    read = {**read, **read_validation}
    shown = (
        replace(config, data=given.data, validation_data=given.validation_data) if read else config
    )
    display_name = display_name or default_run_name(shown, datetime.now())
    job = image_classification_job(ws, experiment, config, display_name, shown)
    return submit(ws, job, user=user, data_inputs=read)


def image_classification_job(
    ws: OpenWorkspace,
    experiment: str,
    config: ImageClassificationConfig,
    display_name: str,
    shown: ImageClassificationConfig | None = None,
) -> ModuleJob:
    """The training job of a validated config whose data is on this machine, its images
    checked first (`shown`: the config as the user gave it, for the run's source); what
    `submit_image_classification` and a pipeline's image_classification step submit."""
    from modelyard.vision.dataset import VALIDATION_DATA, check_before_submission

    check_output_folder(config.output)
    if data_goes_with_the_job(ws, config.compute_target):
        _check_no_paths_outside_table(config)
        _check_no_output_elsewhere(config)
    # Wrong columns, rows outside the table's folder, no image at all: refused before a run
    # exists, so nothing is written.
    check_before_submission(Path(config.data), config.allow_paths_outside_table)
    if config.validation_data is not None:
        check_before_submission(
            Path(config.validation_data), config.allow_paths_outside_table, VALIDATION_DATA
        )
    source = image_classification_source(shown or config)
    return image_job(ws, experiment, IMAGE_CLASSIFICATION_MODULE, config, display_name, source)


class ImageJobConfig(Protocol):
    """What `image_job` needs of a config: an image job's (training, AutoML for images)."""

    @property
    def data(self) -> str: ...

    @property
    def compute_target(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def image_job(
    ws: OpenWorkspace,
    experiment: str,
    module: str,
    config: ImageJobConfig,
    display_name: str,
    source: RunSource,
) -> ModuleJob:
    """The job of a built-in module reading images: its config as `config.json`, and either
    the workspace's caches (a job on this machine) or the images in its snapshot (a job on the
    workspace's server or on another machine, which reads that machine's caches)."""
    folders: dict[str, Path] = {}
    arguments: tuple[str, ...] = ("--config", CONFIG_FILE)
    payload = config.to_dict()
    if data_goes_with_the_job(ws, config.compute_target):
        payload["data"], folders = data_sent_with_the_job(config.data)
        if payload.get("validation_data") is not None:  # an image classifier's own
            sent, more = data_sent_with_the_job(payload["validation_data"], VALIDATION_FOLDER)
            payload["validation_data"] = sent
            folders.update(more)
    else:
        arguments += cache_arguments(ws)
    return ModuleJob(
        experiment=experiment,
        module=module,
        arguments=arguments,
        files={CONFIG_FILE: json.dumps(payload, indent=2, sort_keys=True).encode()},
        folders=folders,
        compute_target=config.compute_target,
        display_name=display_name,
        source=source,
    )


def image_classification_source(config: ImageClassificationConfig) -> RunSource:
    """The run's source as the user gave it: the built-in job and the options that tell its runs
    apart (the command it is launched with, `-m …builtin_jobs… --config config.json`, is ours)."""
    return RunSource(
        script=IMAGE_CLASSIFICATION_TITLE,
        arguments=("--data", config.data, "--backbone", config.backbone),
    )


def default_run_name(config: ImageClassificationConfig, now: datetime) -> str:
    """Where no name is given: the data set's name, the backbone and the minute it was
    submitted ("flowers efficientnet-lite0 Dec 06 14:05"), so that a list of runs on several
    data sets, or several tries on one, reads apart."""
    if is_data_reference(config.data):
        dataset = parse_data_reference(config.data).name
    else:
        data = Path(config.data)
        dataset = data.stem if data.suffix.lower() in TABLE_SUFFIXES else data.name
    return f"{dataset or 'images'} {config.backbone} {now:%b %d %H:%M}"


def output_downloaded_here(
    ws: OpenWorkspace, config: ImageClassificationConfig, wait: bool
) -> tuple[ImageClassificationConfig, Path | None]:
    """For a workspace behind a server, take `output` out of the config (the job can't write on
    this machine): the config to submit, and the folder to fill with `download_project` once
    the run has ended. Elsewhere the config as it is, and None."""
    if config.output is None or ws.server_url is None:
        return config, None
    if not wait:
        raise InvalidValue(
            f"--output {config.output!r} with --no-wait: a job on the workspace's server can't"
            " write here; drop --no-wait, or download later with `run.download_files('outputs',"
            " DIR)`",
            path=config.output,
        )
    check_output_folder(config.output)
    return replace(config, output=None), Path(config.output)


def download_project(ws: OpenWorkspace, run_id: str, destination: Path) -> bool:
    """The completed run's outputs written to `destination` as a project folder, all or nothing;
    False (nothing written) when the run did not complete."""
    if ws.store.get_run(run_id).status is not RunStatus.COMPLETED:
        return False
    with folder_written_atomically(destination) as partial:
        ws.artifacts.download_folder(run_id, "outputs", partial)
    return True


def cache_arguments(ws: OpenWorkspace) -> tuple[str, ...]:
    # Without them the job finds the same folders through its workspace; explicit is clearer in
    # the run's recorded arguments.
    return (
        "--feature-cache",
        str(ws.cache_dir / FEATURE_CACHE_FOLDER),
        "--guardrail-cache",
        str(ws.cache_dir / GUARDRAIL_CACHE_FOLDER),
    )


def _check_no_paths_outside_table(config: ImageClassificationConfig) -> None:
    if config.allow_paths_outside_table:
        raise InvalidValue(
            f"{ALLOW_OUTSIDE_OPTION} with a workspace behind a server (or a compute on other"
            " machines): only the table's folder goes with the job, so images outside it would"
            " be looked for where the job runs; fix:"
            " move the images into the table's folder and leave the option out",
            data=config.data,
        )


def _check_no_output_elsewhere(config: ImageClassificationConfig) -> None:
    if config.output is not None:
        raise InvalidValue(
            f"--output {config.output!r} can't be written by a job on the workspace's server or"
            f" on compute {config.compute_target}'s machines:"
            " leave it out and download the run's outputs (`run.download_files('outputs',"
            " DIR)`, or `modelyard train … --output DIR`, which downloads when the run ends)",
            path=config.output,
        )


def data_sent_with_the_job(data: str, folder: str = DATA_FOLDER) -> tuple[str, dict[str, Path]]:
    """The images' folder as the job's snapshot holds it (under `folder`): the data path the
    job reads, and the folder to copy there."""
    source = Path(data)
    if source.is_dir():
        return folder, {folder: source}
    # A table's relative image paths resolve against its folder: that folder goes along.
    return f"{folder}/{source.name}", {folder: source.parent}


def read_guardrails(ws: OpenWorkspace, run_id: str) -> dict[str, Any] | None:
    """The run's guardrails report (`outputs/guardrails.json`), or None if it has none yet."""
    try:
        with ws.artifacts.open_read(run_id, GUARDRAILS_ARTIFACT) as handle:
            return dict(json.loads(handle.read()))
    except (NotFound, OSError, ValueError):
        return None


def check_output_folder(output: str | None) -> None:
    if output is None:
        return
    folder = Path(output)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidValue(
            f"--output {output!r} already exists and is not an empty folder: choose a new folder",
            path=output,
        )
