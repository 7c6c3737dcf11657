"""Data assets over the API: assets, versions, their manifests, files and lineage, and the
versions a run read.

Readers read and download; contributors create; a version's creator or an admin archives and
restores it (an asset: the creator of all its versions, or an admin). A version is named in a
path as a number or `latest` (the latest not archived). A version arrives as one tar archive
(`data.json`, `files/…`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from modelyard.entities import Caller
from modelyard.entities.data import LATEST, DataReference, validate_data_version
from modelyard.entities.names import validate_data_name
from modelyard.server.deps import Contributor, Reader, RunReader, workspace_of
from modelyard.server.schemas import data as schemas
from modelyard.server.schemas.artifacts import BINARY
from modelyard.server.schemas.errors import error_responses
from modelyard.server.streams import chunks_then_close
from modelyard.server.uploads import ARTIFACT_TYPE, JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import authorization, data, data_upload

router = APIRouter(tags=["data"])

IncludeArchived = Annotated[bool, Query(description="archived assets or versions too")]


def _reference(name: str, version: str) -> DataReference:
    validate_data_name(name)
    if version.lower() == LATEST:
        return DataReference(name)
    return DataReference(name, validate_data_version(version, name))


@router.get("/data", dependencies=[Reader], response_model=list[schemas.DataAsset])
def list_assets(request: Request, include_archived: IncludeArchived = False) -> list[Any]:
    return [a.to_dict() for a in data.list_assets(workspace_of(request), include_archived)]


@router.get("/data/{name}", dependencies=[Reader], response_model=schemas.DataAsset)
def show_asset(name: str, request: Request) -> dict[str, Any]:
    return data.get_asset(workspace_of(request), name).to_dict()


@router.get(
    "/data/{name}/versions", dependencies=[Reader], response_model=list[schemas.DataVersion]
)
def list_versions(
    name: str, request: Request, include_archived: IncludeArchived = False
) -> list[dict[str, Any]]:
    """Newest first."""
    ws = workspace_of(request)
    return [v.to_dict() for v in data.list_versions(ws, name, include_archived)]


@router.get(
    "/data/{name}/versions/{version}", dependencies=[Reader], response_model=schemas.DataVersion
)
def show_version(name: str, version: str, request: Request) -> dict[str, Any]:
    """`version`: a number, or `latest` (the latest not archived)."""
    return data.get_data_version(workspace_of(request), _reference(name, version)).to_dict()


@router.get(
    "/data/{name}/versions/{version}/manifest",
    dependencies=[Reader],
    response_model=list[schemas.ManifestEntry],
)
def show_manifest(name: str, version: str, request: Request) -> list[dict[str, Any]]:
    """The version's files, sorted by path: their hash is the version's content hash."""
    ws = workspace_of(request)
    found = data.get_data_version(ws, _reference(name, version))
    return [entry.to_dict() for entry in data.read_manifest(ws, found).entries]


@router.get(
    "/data/{name}/versions/{version}/lineage",
    dependencies=[Reader],
    response_model=schemas.DataLineage,
)
def show_lineage(name: str, version: str, request: Request) -> dict[str, Any]:
    """The runs that read the version, the model versions registered from them, and the
    deployments serving those."""
    return data.lineage(workspace_of(request), _reference(name, version)).to_dict()


@router.get(
    "/data/{name}/versions/{version}/files/{path:path}",
    dependencies=[Reader],
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file's bytes", "content": {ARTIFACT_TYPE: {"schema": BINARY}}}
    },
)
def download_file(name: str, version: str, path: str, request: Request) -> StreamingResponse:
    ws = workspace_of(request)
    found = data.get_data_version(ws, _reference(name, version))
    handle = data.open_file(ws, found, path)
    return StreamingResponse(chunks_then_close(handle), media_type=ARTIFACT_TYPE)


@router.post(
    "/data/{name}/versions",
    status_code=201,
    response_model=schemas.DataCreated,
    responses=error_responses(404, 409),
    openapi_extra={
        "requestBody": {
            "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.DATA_ARCHIVE}},
            "required": True,
        }
    },
)
async def create_version(
    name: str, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """The archive's files as the next version of `name`, or the latest version when its
    content is the same (`created` false)."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the data archive") as archive:
        result = await run_in_threadpool(
            data_upload.create_from_archive, ws, name, archive, caller.name
        )
    return {"version": result.version.to_dict(), "created": result.created}


@router.patch("/data/{name}", response_model=schemas.DataAsset)
def archive_asset(
    name: str, body: schemas.ArchivedIn, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """Archive (hide from lists) or restore the asset."""
    ws = workspace_of(request)
    authorization.check_may_archive_data(ws, caller, validate_data_name(name))
    return data.set_archived(ws, name, body.archived).to_dict()


@router.patch("/data/{name}/versions/{version}", response_model=schemas.DataVersion)
def archive_version(
    name: str,
    version: str,
    body: schemas.ArchivedIn,
    request: Request,
    caller: Caller = Contributor,
) -> dict[str, Any]:
    """Archive (hide from lists and `latest`) or restore a version."""
    ws = workspace_of(request)
    number = validate_data_version(version, validate_data_name(name))  # a number: not latest
    reference = f"{name}:{number}"
    authorization.check_may_archive_data(ws, caller, reference)
    return data.set_archived(ws, reference, body.archived).to_dict()


@router.get(
    "/runs/{run_id}/inputs", dependencies=[RunReader], response_model=list[schemas.RunInput]
)
def list_run_inputs(run_id: str, request: Request) -> list[dict[str, Any]]:
    """The data asset versions the run read, by input name."""
    return [item.to_dict() for item in data.list_run_inputs(workspace_of(request), run_id)]
