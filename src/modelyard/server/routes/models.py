"""The model registry over the API: models, versions, their files, tags, properties, aliases.

Readers read and download; contributors register, change tags, properties and aliases, and
delete. A version is named in a path as a number or `latest`; `/aliases/{alias}` resolves an
alias. A registration arrives as one tar archive (`model.json`, `files/…`), or names a run's
artifacts, which never leave the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from modelyard.entities import Caller, Role, limits
from modelyard.entities.registry import LATEST, ModelReference, validate_version
from modelyard.server.deps import Contributor, ContributorOrJob, Reader, workspace_of
from modelyard.server.schemas import models as schemas
from modelyard.server.schemas.artifacts import BINARY
from modelyard.server.schemas.errors import error_responses
from modelyard.server.streams import chunks_then_close
from modelyard.server.uploads import ARTIFACT_TYPE, JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import authorization, model_upload
from modelyard.services import models as registry

router = APIRouter(tags=["models"])


def _reference(name: str, version: str) -> ModelReference:
    if version.lower() == LATEST:
        return ModelReference(name)
    return ModelReference(name, version=validate_version(version, name))


@router.get("/models", dependencies=[Reader], response_model=list[schemas.RegisteredModel])
def list_models(request: Request) -> list[dict[str, Any]]:
    return [model.to_dict() for model in registry.list_models(workspace_of(request))]


@router.get("/models/{name}", dependencies=[Reader], response_model=schemas.RegisteredModel)
def show_model(name: str, request: Request) -> dict[str, Any]:
    return registry.get_model(workspace_of(request), name).to_dict()


@router.get(
    "/models/{name}/versions", dependencies=[Reader], response_model=list[schemas.ModelVersion]
)
def list_versions(name: str, request: Request) -> list[dict[str, Any]]:
    """Newest first."""
    return [v.to_dict() for v in registry.list_versions(workspace_of(request), name)]


@router.get(
    "/model-versions",
    response_model=list[schemas.ModelVersion],
)
def list_run_versions(
    request: Request,
    run_id: Annotated[str, Query(min_length=1, max_length=limits.ID_MAX)],
    caller: Caller = Reader,
) -> list[dict[str, Any]]:
    """The versions registered from run `run_id` (their lineage's run), by name and version."""
    ws = workspace_of(request)
    authorization.check_run_access(ws, caller, run_id, Role.READER)
    return [v.to_dict() for v in registry.list_run_versions(ws, run_id)]


@router.get(
    "/models/{name}/versions/{version}",
    dependencies=[Reader],
    response_model=schemas.ModelVersion,
)
def show_version(name: str, version: str, request: Request) -> dict[str, Any]:
    """`version`: a number, or `latest`."""
    found = registry.get_model_version(workspace_of(request), _reference(name, version))
    return found.to_dict()


@router.get(
    "/models/{name}/aliases/{alias}", dependencies=[Reader], response_model=schemas.ModelVersion
)
def resolve_alias(name: str, alias: str, request: Request) -> dict[str, Any]:
    """The version `name@alias` points at."""
    reference = ModelReference(name, alias=alias)
    return registry.get_model_version(workspace_of(request), reference).to_dict()


@router.get(
    "/models/{name}/versions/{version}/files/{path:path}",
    dependencies=[Reader],
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file's bytes", "content": {ARTIFACT_TYPE: {"schema": BINARY}}}
    },
)
def download_file(name: str, version: str, path: str, request: Request) -> StreamingResponse:
    ws = workspace_of(request)
    found = registry.get_model_version(ws, _reference(name, version))
    handle = registry.open_file(ws, found, path)
    size = next(file.size for file in found.files if file.path == path)
    return StreamingResponse(
        chunks_then_close(handle), media_type=ARTIFACT_TYPE, headers={"Content-Length": str(size)}
    )


@router.post(
    "/models/{name}/versions",
    status_code=201,
    response_model=schemas.ModelVersion,
    responses=error_responses(404, 409),
    openapi_extra={
        "requestBody": {
            "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.MODEL_ARCHIVE}},
            "required": True,
        }
    },
)
async def register_files(
    name: str, request: Request, caller: Caller = ContributorOrJob
) -> dict[str, Any]:
    """Register the archive's files as the next version of `name`."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the model archive") as archive:
        version = await run_in_threadpool(model_upload.register_archive, ws, name, archive, caller)
    return version.to_dict()


@router.post(
    "/models/{name}/versions/from-run",
    status_code=201,
    response_model=schemas.ModelVersion,
    responses=error_responses(404, 409),
)
def register_from_run(
    name: str, body: schemas.RunModelIn, request: Request, caller: Caller = ContributorOrJob
) -> dict[str, Any]:
    """Register a run's artifact file or folder (its `outputs` by default), with the run as
    the version's lineage."""
    ws = workspace_of(request)
    authorization.check_may_register_model(caller, body.run_id)
    authorization.check_run_access(ws, caller, body.run_id, Role.READER)
    payload = body.model_dump(exclude={"run_id", "path"})
    model_request = model_upload.request_from_dict(name, payload)
    version = registry.register_run_model(
        ws, body.run_id, model_request, body.path, user=caller.name
    )
    return version.to_dict()


@router.patch(
    "/models/{name}/versions/{version}",
    dependencies=[Contributor],
    response_model=schemas.ModelVersion,
    responses=error_responses(409),
)
def update_version(
    name: str, version: str, body: schemas.VersionUpdateIn, request: Request
) -> dict[str, Any]:
    """Set and delete tags, add properties (a changed one: 409), set the description."""
    updated = registry.update_version(
        workspace_of(request),
        _reference(name, version),
        set_tags=body.set_tags,
        delete_tags=body.delete_tags,
        add_properties=body.add_properties,
        description=body.description,
    )
    return updated.to_dict()


@router.put(
    "/models/{name}/aliases/{alias}",
    dependencies=[Contributor],
    response_model=schemas.ModelAlias,
)
def set_alias(name: str, alias: str, body: schemas.AliasIn, request: Request) -> dict[str, Any]:
    """Point `name@alias` at a version, moving it if it pointed elsewhere."""
    return registry.set_alias(workspace_of(request), name, alias, body.version).to_dict()


@router.delete(
    "/models/{name}/aliases/{alias}",
    dependencies=[Contributor],
    response_model=schemas.ModelAlias,
)
def delete_alias(name: str, alias: str, request: Request) -> dict[str, Any]:
    return registry.delete_alias(workspace_of(request), name, alias).to_dict()


@router.delete(
    "/models/{name}/versions/{version}",
    dependencies=[Contributor],
    response_model=schemas.ModelDeleted,
    responses=error_responses(404, 409),
)
def delete_version(name: str, version: str, request: Request) -> dict[str, Any]:
    """Its aliases go with it."""
    deleted = registry.delete_version(workspace_of(request), _reference(name, version))
    return {"deleted": deleted.reference, "versions": [deleted.version]}


@router.delete(
    "/models/{name}",
    dependencies=[Contributor],
    response_model=schemas.ModelDeleted,
    responses=error_responses(404, 409),
)
def delete_model(name: str, request: Request) -> dict[str, Any]:
    """The model and every version."""
    versions = registry.delete_model(workspace_of(request), name)
    return {"deleted": name, "versions": sorted(v.version for v in versions)}
