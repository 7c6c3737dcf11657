"""Published pipelines (Azure ML v1's `PublishedPipeline` and `PipelineEndpoint`): a pipeline
frozen as a numbered version of a name, invoked with parameters to start a pipeline run.

A version is what a pipeline's driver snapshot holds, made the same way (`PipelineJob`'s
module job staged: `pipeline.json` and `steps/<name>/`), under
`<workspace>/published_pipelines/<name>/<folder>/`. It is staged in the workspace's cache,
checked by reading it back (`read_config`), renamed into place, and only then recorded in
the database; a failed record removes the folder again, so nothing is half-published.

An invocation reads the version's `pipeline.json` back, replaces the inputs given as
parameters (checked against the declared ones before anything is created) and submits it as
any pipeline is submitted; the run records which version started it (properties and tags
`modelyard.published_pipeline` and `modelyard.published_pipeline_version`).
"""

from __future__ import annotations

import getpass
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from modelyard.entities import Run, RunSource, limits
from modelyard.entities.data import is_data_reference
from modelyard.entities.names import validate_published_pipeline_name
from modelyard.entities.pipelines import Literal, Pipeline, PipelineInput
from modelyard.entities.published_pipelines import (
    PipelineParameter,
    PublishedPipeline,
    PublishedPipelineVersion,
    check_parameters,
)
from modelyard.errors import InvalidValue
from modelyard.services.job_archive import ARCHIVE, packed_job
from modelyard.services.pipelines.pipeline_file import read_config
from modelyard.services.pipelines.pipeline_job import CONFIG_FILE, PIPELINE_TITLE, PipelineJob
from modelyard.services.pipelines.submission import (
    driver_snapshot,
    refuse_local_paths,
    submit_pipeline,
)
from modelyard.services.upload_archive import unpack
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.store.rest_published_pipelines import RestPublishedPipelines

PUBLISHED_FOLDER: Final = "published_pipelines"
NAME_PROPERTY: Final = "modelyard.published_pipeline"
VERSION_PROPERTY: Final = "modelyard.published_pipeline_version"


@dataclass(frozen=True)
class PublishedPipelineDetails:
    """A published pipeline with its versions, newest first."""

    pipeline: PublishedPipeline
    versions: list[PublishedPipelineVersion]

    def to_dict(self) -> dict[str, Any]:
        return {**self.pipeline.to_dict(), "versions": [v.to_dict() for v in self.versions]}


# Publishing --------------------------------------------------------------------------------


def publish_pipeline(
    ws: OpenWorkspace, job: PipelineJob, name: str, description: str = "", user: str | None = None
) -> PublishedPipelineVersion:
    """`job`'s pipeline and its steps' code as the next version of `name`."""
    _check_request(name, description)
    job.validate()
    if ws.server_url is not None:
        refuse_local_paths(ws.server_url, job)
        with packed_job({"description": description}, job.to_module_job().stage) as archive:
            return _remote(ws).publish(name, archive)
    return _publish_staged(ws, name, description, user, job.to_module_job().stage)


def publish_pipeline_run(
    ws: OpenWorkspace, run_id: str, name: str, description: str = "", user: str | None = None
) -> PublishedPipelineVersion:
    """Pipeline run `run_id`'s definition and code (its driver's snapshot) as the next version
    of `name` (Azure's `pipeline_run.publish_pipeline`)."""
    _check_request(name, description)
    if ws.server_url is not None:
        return _remote(ws).publish_run(name, run_id, description)
    snapshot = driver_snapshot(ws, run_id)
    pipeline, _ = read_config((snapshot / CONFIG_FILE).read_bytes(), snapshot)
    stage = PipelineJob(pipeline).to_module_job().stage
    return _publish_staged(ws, name, description, user, stage, source_run=run_id)


def publish_uploaded(
    ws: OpenWorkspace, name: str, archive: IO[bytes], user: str
) -> PublishedPipelineVersion:
    """A server's end of `publish_pipeline`: the staged pipeline as a job archive (its
    `job.json` holds the description), unpacked, read back and checked like any other."""
    validate_published_pipeline_name(name)
    unpacked = ws.cache_dir / "staging" / f"upload-{uuid.uuid4().hex}"
    try:
        described = unpack(archive, unpacked / "snapshot", ARCHIVE)
        description = described.get("description") or ""
        if not isinstance(description, str):
            raise InvalidValue(f"the description is {description!r}, not a string")
        _check_request(name, description)

        def stage(target: Path) -> None:
            (unpacked / "snapshot").rename(target)

        return _publish_staged(ws, name, description, user, stage)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def _check_request(name: str, description: str) -> None:
    validate_published_pipeline_name(name)
    if len(description) > limits.PUBLISHED_PIPELINE_DESCRIPTION_MAX:
        raise InvalidValue(
            f"the description has {len(description)} characters: shorten it to"
            f" {limits.PUBLISHED_PIPELINE_DESCRIPTION_MAX}",
            field="description",
        )


def _publish_staged(
    ws: OpenWorkspace,
    name: str,
    description: str,
    user: str | None,
    stage: Callable[[Path], None],
    source_run: str | None = None,
) -> PublishedPipelineVersion:
    """Stage, check, rename into place, then record; on any failure nothing stays."""
    staging = ws.cache_dir / "staging" / f"publish-{uuid.uuid4().hex}"
    folder = f"{name}/{uuid.uuid4().hex}"
    target = published_root(ws) / folder
    try:
        stage(staging)
        pipeline = _read_version(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    draft = PublishedPipelineVersion(
        name=name,
        version=0,  # the store numbers it
        description=description,
        pipeline=pipeline.name,
        parameters=tuple(PipelineParameter.of_input(n, p) for n, p in pipeline.inputs.items()),
        folder=folder,
        enabled=True,
        created_by=user or getpass.getuser(),
        created_at=datetime.now(UTC),
        source_run=source_run,
    )
    try:
        return ws.published_pipeline_store.create_published_version(draft)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _read_version(folder: Path) -> Pipeline:
    """The staged version read back as an invocation will read it, and checked whole."""
    config = folder / CONFIG_FILE
    if not config.is_file():
        raise InvalidValue(
            f"the published pipeline has no {CONFIG_FILE}: publish it with the Modelyard CLI or"
            " SDK of the server's version",
        )
    pipeline, _ = read_config(config.read_bytes(), folder)
    PipelineJob(pipeline).validate()
    return pipeline


def published_root(ws: OpenWorkspace) -> Path:
    return ws.root / PUBLISHED_FOLDER


# Reading and changing ----------------------------------------------------------------------


def list_published(ws: OpenWorkspace) -> list[PublishedPipeline]:
    if ws.server_url is not None:
        return _remote(ws).list_all()
    return ws.published_pipeline_store.list_published_pipelines()


def published_details(ws: OpenWorkspace, name: str) -> PublishedPipelineDetails:
    if ws.server_url is not None:
        return PublishedPipelineDetails(*_remote(ws).details(name))
    store = ws.published_pipeline_store
    return PublishedPipelineDetails(
        store.get_published_pipeline(name), store.list_published_versions(name)
    )


def get_published_version(
    ws: OpenWorkspace, name: str, version: int | None = None
) -> PublishedPipelineVersion:
    """Version `version` of `name`, or its default version (the latest unless one is set)."""
    if ws.server_url is not None:
        return _remote(ws).version(name, version)
    store = ws.published_pipeline_store
    if version is None:
        version = store.get_published_pipeline(name).effective_default
    return store.get_published_version(name, version)


def set_default_version(ws: OpenWorkspace, name: str, version: int) -> PublishedPipeline:
    if ws.server_url is not None:
        return _remote(ws).set_default(name, version)
    return ws.published_pipeline_store.set_published_default(name, version)


def set_version_enabled(
    ws: OpenWorkspace, name: str, version: int, enabled: bool
) -> PublishedPipelineVersion:
    """A disabled version refuses to run until enabled again; its runs so far stay."""
    if ws.server_url is not None:
        return _remote(ws).set_enabled(name, version, enabled)
    return ws.published_pipeline_store.set_published_enabled(name, version, enabled)


# Invoking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """What to start: `parameters` as typed values (JSON's), or as command-line text
    (`as_text`, read by each parameter's type). `data_paths`: a data parameter may name a
    path on the workspace's machine (not for a caller of the server's API)."""

    name: str
    experiment: str | None = None
    version: int | None = None  # None: the default version
    parameters: Mapping[str, object] | None = None
    as_text: bool = False
    data_paths: bool = True
    display_name: str | None = None


def invoke_published(ws: OpenWorkspace, invocation: Invocation, user: str | None = None) -> Run:
    """A pipeline run of the published version, its parameters applied; nothing is created
    when the version is disabled or a parameter is unknown or of the wrong type."""
    if ws.server_url is not None:
        return _invoke_remote(ws, invocation)
    found = get_published_version(ws, invocation.name, invocation.version)
    found.refuse_if_disabled()
    values = check_parameters(
        found.parameters, invocation.parameters or {}, as_text=invocation.as_text
    )
    if not invocation.data_paths:
        _refuse_data_paths(found, values)
    folder = published_root(ws) / found.folder
    pipeline, _ = read_config((folder / CONFIG_FILE).read_bytes(), folder)
    job = PipelineJob(
        pipeline=_with_parameters(pipeline, values, invocation.experiment),
        display_name=invocation.display_name,
        source=RunSource(script=PIPELINE_TITLE, arguments=("invoke", found.reference)),
    )
    marks = {NAME_PROPERTY: found.name, VERSION_PROPERTY: str(found.version)}
    run = submit_pipeline(ws, job, user=user, properties=marks)
    ws.store.log_batch(run.id, tags=marks)  # the runs table filters on tags
    return run


def _with_parameters(
    pipeline: Pipeline, values: Mapping[str, Literal], experiment: str | None
) -> Pipeline:
    inputs = dict(pipeline.inputs)
    for name, value in values.items():
        port = inputs[name]
        if port.type.is_data and not is_data_reference(str(value)):
            value = str(Path(str(value)).absolute())
        inputs[name] = PipelineInput(port.type, value)
    return replace(pipeline, inputs=inputs, experiment=experiment or pipeline.experiment)


def _refuse_data_paths(found: PublishedPipelineVersion, values: Mapping[str, Literal]) -> None:
    for parameter in found.parameters:
        value = values.get(parameter.name)
        if parameter.type.is_data and value is not None and not is_data_reference(str(value)):
            raise InvalidValue(
                f"parameter {parameter.name!r} is the path {str(value)[:80]!r}, which a caller"
                " of the server may not name: give a data asset reference, as in"
                " data:NAME@latest",
                parameter=parameter.name,
            )


def _invoke_remote(ws: OpenWorkspace, invocation: Invocation) -> Run:
    """Command-line text is read by the declared types here, so the server gets JSON's."""
    parameters = dict(invocation.parameters or {})
    if invocation.as_text:
        found = _remote(ws).version(invocation.name, invocation.version)
        parameters = dict(check_parameters(found.parameters, parameters, as_text=True))
    body = {
        "experiment_name": invocation.experiment,
        "parameters": parameters,
        "display_name": invocation.display_name,
    }
    run_id = _remote(ws).invoke(invocation.name, invocation.version, body)["run_id"]
    return ws.store.get_run(run_id)


def _remote(ws: OpenWorkspace) -> RestPublishedPipelines:
    from modelyard.store.rest_published_pipelines import RestPublishedPipelines  # httpx

    return RestPublishedPipelines(ws.rest_store.client)
