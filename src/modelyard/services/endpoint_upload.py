"""A server's end of deployments asked for over the API: the code that comes with them, and
the only code they may run.

A deployment with code arrives as one archive (`deployment_archive`: `deployment.json`, then
`code/…`), checked whole as every upload is (`upload_archive.unpack`: regular files only, no
name out of its folder) and unpacked into the cache's staging folder. Its code is then moved,
in one rename, to a folder of its own in the endpoint's `code/` folder, and the deployment
runs from there; a deploy or update that fails removes that folder again, and the service
removes it when the deployment is deleted or updated to other code.

A deployment sent as JSON may name code only inside that `code/` folder (an update keeping the
code it runs): a path elsewhere on the server's disk is refused, whoever asks, so the API never
makes the server run a script it was not sent.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from modelyard.entities.endpoints import Deployment, DeploymentRequest
from modelyard.errors import PermissionDenied
from modelyard.services import endpoints
from modelyard.services.deployment_archive import (
    CODE_PREFIX,
    DEPLOYMENT_FILE,
    DEPLOYMENT_FILE_MAX_BYTES,
)
from modelyard.services.upload_archive import ArchiveForm, unpack, upload_refusal
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import safe_relative_path


@contextmanager
def received_code(ws: OpenWorkspace, archive: IO[bytes]) -> Iterator[tuple[dict[str, Any], Path]]:
    """The archive's description and its code, unpacked for the block; removed afterwards
    unless a deploy took the code."""
    staging = ws.cache_dir / "staging" / f"deployment-{uuid.uuid4().hex}"
    try:
        description = unpack(archive, staging / "code", ARCHIVE)
        yield description, staging / "code"
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def deploy_with_code(
    ws: OpenWorkspace,
    request: DeploymentRequest,
    code: Path,
    *,
    port: int | None = None,
    traffic: dict[str, int] | None = None,
    sample: bytes | None = None,
) -> Deployment:
    """`endpoints.deploy`, running the uploaded `code` (whose `entry_script` the request names
    relative to it)."""
    with _placed(ws, request.check(), code) as placed:
        return endpoints.deploy(ws, placed, port=port, traffic=traffic, sample=sample)


def update_with_code(
    ws: OpenWorkspace, request: DeploymentRequest, code: Path, sample: bytes | None = None
) -> Deployment:
    """`endpoints.update_deployment` to the uploaded `code`."""
    with _placed(ws, request.check(), code) as placed:
        return endpoints.update_deployment(ws, placed, sample=sample)


def check_named_code(ws: OpenWorkspace, request: DeploymentRequest) -> DeploymentRequest:
    """A deployment asked for as JSON names no code, or the code uploaded with it (an update
    that keeps its code); anything else on the server's disk is refused."""
    if not request.entry_script and not request.source_directory:
        return request
    if not _is_own_upload(ws, request):
        shown = request.source_directory or request.entry_script
        raise PermissionDenied(
            f"{shown!r} is not code uploaded with deployment {request.name} of endpoint"
            f" {request.endpoint}: the server runs only code sent with a deployment; send the"
            " entry script and its folder with it (the CLI and SDK do: POST"
            f" /endpoints/{request.endpoint}/deployments/with-code)",
            path=shown,
        )
    return request


def _is_own_upload(ws: OpenWorkspace, request: DeploymentRequest) -> bool:
    if not request.source_directory:
        return False
    source = Path(request.source_directory).resolve()
    script = (source / request.entry_script).resolve() if request.entry_script else source
    return (
        source.parent == endpoints.uploaded_code_dir(ws, request.endpoint).resolve()
        and source.name.rpartition("-")[0] == request.name
        and source.is_dir()
        and script.is_relative_to(source)
    )


@contextmanager
def _placed(
    ws: OpenWorkspace, request: DeploymentRequest, code: Path
) -> Iterator[DeploymentRequest]:
    if request.source_directory is not None:
        raise _refused("source_directory is set: the archive's code/ folder is the source")
    if not request.entry_script:
        raise _refused("entry_script is missing: name the score.py inside code/")
    entry_script = safe_relative_path(request.entry_script)
    # Named after its deployment: only that deployment may name it again (`_is_own_upload`).
    target = endpoints.uploaded_code_dir(ws, request.endpoint) / (
        f"{request.name}-{uuid.uuid4().hex[:12]}"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    code.rename(target)  # all of the code or none of it
    try:
        yield replace(request, entry_script=entry_script, source_directory=str(target))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


_refused = upload_refusal(
    "deployment upload", "deploy with the Modelyard SDK or CLI of the server's version"
)


ARCHIVE = ArchiveForm(DEPLOYMENT_FILE, DEPLOYMENT_FILE_MAX_BYTES, CODE_PREFIX, _refused)
