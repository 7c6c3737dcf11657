"""Registered components over the API: components, their versions, and each version's code
(manifest and files).

Readers read and download; contributors register, archive and restore. A version is named in
a path as a number or `latest` (the latest not archived). A version arrives as one tar
archive (`component.json`, `files/…`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from modelyard.entities import Caller
from modelyard.entities.components import (
    LATEST,
    ComponentReference,
    validate_component_version,
)
from modelyard.entities.names import validate_component_name
from modelyard.errors import NotFound
from modelyard.server.deps import Contributor, Reader, workspace_of
from modelyard.server.schemas import components as schemas
from modelyard.server.schemas.artifacts import BINARY
from modelyard.server.schemas.data import ArchivedIn, ManifestEntry
from modelyard.server.schemas.errors import error_responses
from modelyard.server.uploads import ARTIFACT_TYPE, JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import component_upload, components, data
from modelyard.store.artifacts import CHUNK_SIZE

router = APIRouter(tags=["components"])

IncludeArchived = Annotated[bool, Query(description="archived versions too")]


def _reference(name: str, version: str) -> ComponentReference:
    validate_component_name(name)
    if version.lower() == LATEST:
        return ComponentReference(name)
    return ComponentReference(name, validate_component_version(version, name))


@router.get("/components", dependencies=[Reader], response_model=list[schemas.Component])
def list_components(request: Request) -> list[Any]:
    return [c.to_dict() for c in components.list_components(workspace_of(request))]


@router.get(
    "/components/{name}/versions",
    dependencies=[Reader],
    response_model=list[schemas.ComponentVersion],
)
def list_versions(
    name: str, request: Request, include_archived: IncludeArchived = False
) -> list[dict[str, Any]]:
    """Newest first."""
    ws = workspace_of(request)
    return [v.to_dict() for v in components.list_versions(ws, name, include_archived)]


@router.get(
    "/components/{name}/versions/{version}",
    dependencies=[Reader],
    response_model=schemas.ComponentVersion,
)
def show_version(name: str, version: str, request: Request) -> dict[str, Any]:
    """`version`: a number, or `latest` (the latest not archived)."""
    ws = workspace_of(request)
    return components.get_component_version(ws, _reference(name, version)).to_dict()


@router.get(
    "/components/{name}/versions/{version}/manifest",
    dependencies=[Reader],
    response_model=list[ManifestEntry],
)
def show_manifest(name: str, version: str, request: Request) -> list[dict[str, Any]]:
    """The code snapshot's files, sorted by path: their hash is the version's code hash."""
    ws = workspace_of(request)
    found = components.get_component_version(ws, _reference(name, version))
    return [entry.to_dict() for entry in components.read_code_manifest(ws, found).entries]


@router.get(
    "/components/{name}/versions/{version}/files/{path:path}",
    dependencies=[Reader],
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file's bytes", "content": {ARTIFACT_TYPE: {"schema": BINARY}}}
    },
)
def download_file(name: str, version: str, path: str, request: Request) -> StreamingResponse:
    ws = workspace_of(request)
    found = components.get_component_version(ws, _reference(name, version))
    for entry in components.read_code_manifest(ws, found).entries:
        if entry.relpath == path:
            handle = data.blob_store(ws).open_read(entry.sha256)
            return StreamingResponse(_chunks(handle), media_type=ARTIFACT_TYPE)
    raise NotFound(
        f"component {found.reference} has no file {path!r} in its code: see its files with"
        f" GET /components/{found.name}/versions/{found.version}/manifest",
        name=found.name,
        path=path,
    )


@router.post(
    "/components/{name}/versions",
    status_code=201,
    response_model=schemas.ComponentCreated,
    responses=error_responses(404, 409),
    openapi_extra={
        "requestBody": {
            "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.COMPONENT_ARCHIVE}},
            "required": True,
        }
    },
)
async def create_version(
    name: str, request: Request, caller: Caller = Contributor
) -> dict[str, Any]:
    """The archive's definition and code as a new version of `name`, or the version already
    holding that content (`created` false)."""
    ws = workspace_of(request)
    validate_component_name(name)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the component archive") as archive:
        result = await run_in_threadpool(
            component_upload.create_from_archive, ws, name, archive, caller.name
        )
    return {"version": result.version.to_dict(), "created": result.created}


@router.patch(
    "/components/{name}/versions/{version}",
    dependencies=[Contributor],
    response_model=schemas.ComponentVersion,
)
def archive_version(name: str, version: str, body: ArchivedIn, request: Request) -> dict[str, Any]:
    """Archive (hide from lists and `latest`) or restore a version."""
    number = validate_component_version(version, validate_component_name(name))
    ws = workspace_of(request)
    return components.set_archived(ws, f"{name}:{number}", body.archived).to_dict()


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
