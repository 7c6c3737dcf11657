"""Published pipelines over the API (Azure's `PipelineEndpoint` REST): list and show them,
publish a version (a packed pipeline, or a pipeline run's definition), set the default
version, enable or disable a version, and start a run of one with parameters.

Readers read; contributors publish, change and start runs. A run's data parameters are data
asset references: a caller of the API names no path on the server's machine.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from modelyard.entities import Caller
from modelyard.entities.published_pipelines import check_version
from modelyard.server.deps import Contributor, Reader, workspace_of
from modelyard.server.schemas import published_pipelines as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.server.uploads import JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import portal_links
from modelyard.services.pipelines import published
from modelyard.services.pipelines.published import Invocation

router = APIRouter(tags=["published pipelines"])

ROUTE = "/published-pipelines"
DEFAULT = "default"


def _version(name: str, version: str) -> int | None:
    return None if version.lower() == DEFAULT else check_version(version, name)


@router.get(ROUTE, dependencies=[Reader], response_model=list[schemas.PublishedPipeline])
def list_published(request: Request) -> list[dict[str, Any]]:
    return [p.to_dict() for p in published.list_published(workspace_of(request))]


@router.get(
    ROUTE + "/{name}", dependencies=[Reader], response_model=schemas.PublishedPipelineDetails
)
def show_published(name: str, request: Request) -> dict[str, Any]:
    return published.published_details(workspace_of(request), name).to_dict()


@router.get(
    ROUTE + "/{name}/versions/{version}",
    dependencies=[Reader],
    response_model=schemas.PublishedPipelineVersion,
)
def show_version(name: str, version: str, request: Request) -> dict[str, Any]:
    """`version`: a number, or `default` (the default version)."""
    ws = workspace_of(request)
    return published.get_published_version(ws, name, _version(name, version)).to_dict()


@router.post(
    ROUTE + "/{name}/versions",
    status_code=201,
    response_model=schemas.PublishedPipelineVersion,
    responses=error_responses(404),
    openapi_extra={
        "requestBody": {
            "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.PIPELINE_ARCHIVE}},
            "required": True,
        }
    },
)
async def publish_version(
    name: str, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """The packed pipeline as the name's next version."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the pipeline archive") as archive:
        made = await run_in_threadpool(
            published.publish_uploaded, ws, name, archive, user=caller.name
        )
    return made.to_dict()


@router.post(
    ROUTE + "/{name}/versions/from-run",
    status_code=201,
    response_model=schemas.PublishedPipelineVersion,
    responses=error_responses(404),
)
def publish_run(
    name: str, body: schemas.PublishRunIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """Pipeline run `run_id`'s definition and code as the name's next version."""
    ws = workspace_of(request)
    made = published.publish_pipeline_run(ws, body.run_id, name, body.description, user=caller.name)
    return made.to_dict()


@router.put(
    ROUTE + "/{name}/default-version",
    dependencies=[Contributor],
    response_model=schemas.PublishedPipeline,
    responses=error_responses(404),
)
def set_default_version(
    name: str, body: schemas.DefaultVersionIn, request: Request
) -> dict[str, Any]:
    return published.set_default_version(workspace_of(request), name, body.version).to_dict()


@router.post(
    ROUTE + "/{name}/versions/{version}/enable",
    dependencies=[Contributor],
    response_model=schemas.PublishedPipelineVersion,
    responses=error_responses(404),
)
def enable_version(name: str, version: int, request: Request) -> dict[str, Any]:
    return published.set_version_enabled(workspace_of(request), name, version, True).to_dict()


@router.post(
    ROUTE + "/{name}/versions/{version}/disable",
    dependencies=[Contributor],
    response_model=schemas.PublishedPipelineVersion,
    responses=error_responses(404),
)
def disable_version(name: str, version: int, request: Request) -> dict[str, Any]:
    return published.set_version_enabled(workspace_of(request), name, version, False).to_dict()


@router.post(
    ROUTE + "/{name}/runs",
    status_code=201,
    response_model=schemas.PipelineRunStarted,
    responses=error_responses(404, 409),
)
def invoke_default(
    name: str, body: schemas.InvokeIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """A pipeline run of the default version, with `parameters` applied."""
    return _invoke(request, caller, body, name, None)


@router.post(
    ROUTE + "/{name}/versions/{version}/runs",
    status_code=201,
    response_model=schemas.PipelineRunStarted,
    responses=error_responses(404, 409),
)
def invoke_version(
    name: str, version: int, body: schemas.InvokeIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """A pipeline run of version `version`, with `parameters` applied."""
    return _invoke(request, caller, body, name, version)


def _invoke(
    request: Request, caller: Caller, body: schemas.InvokeIn, name: str, version: int | None
) -> dict[str, Any]:
    invocation = Invocation(
        name=name,
        version=version,
        experiment=body.experiment_name,
        parameters=body.parameters,
        data_paths=False,
        display_name=body.display_name,
    )
    ws = workspace_of(request)
    run = published.invoke_published(ws, invocation, user=caller.name)
    properties = ws.store.get_run_data(run.id).properties
    return {
        "run_id": run.id,
        "portal_url": portal_links.portal_url(str(request.base_url), run.id),
        "published_pipeline": name,
        "version": int(properties[published.VERSION_PROPERTY]),
    }
