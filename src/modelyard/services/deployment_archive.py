"""A deployment sent to a server with its code, as one tar archive both ends share:
`deployment.json` (the deploy's JSON body, its entry script relative to the code), then
`code/…`.

The replicas run on the server's machine, so a client packs the code its deployment names: the
source directory is snapshotted as a job's is (ignore files, limits), or the entry script alone
when there is none. The server (`endpoint_upload`) unpacks it into the endpoint's `code/` folder
and runs the deployment from there. A deployment that names no code, or an update that names
the code the server already holds (the paths its deployment shows), is sent as JSON alone.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from modelyard.entities.endpoints import Deployment, DeploymentRequest
from modelyard.errors import InvalidValue
from modelyard.services.snapshot import take_snapshot
from modelyard.services.upload_archive import packed
from modelyard.store.artifacts import safe_relative_path

DEPLOYMENT_FILE: Final = "deployment.json"
CODE_PREFIX: Final = "code/"
DEPLOYMENT_FILE_MAX_BYTES: Final = 8 * 1024 * 1024  # room for a preflight sample in base64


def describe(
    request: DeploymentRequest, *, port: int | None = None, traffic: dict[str, int] | None = None
) -> dict[str, Any]:
    """The JSON body of a deploy (`DeploymentIn` on the server)."""
    return {
        "name": request.name,
        "model": request.model,
        "entry_script": request.entry_script,
        "source_directory": request.source_directory,
        "environment": json.loads(request.environment) if request.environment else None,
        "compute": request.compute,
        "replicas": request.replicas,
        "min_replicas": request.min_replicas,
        "max_replicas": request.max_replicas,
        "target_ongoing_requests": request.target_ongoing_requests,
        "cpu_cores": request.cpu_cores,
        "memory_gb": request.memory_gb,
        "traffic": traffic,
        "port": port,
    }


def encoded(sample: bytes | None) -> str | None:
    """A preflight's request body as the JSON carries it."""
    return None if sample is None else base64.b64encode(sample).decode("ascii")


def uploads_code(request: DeploymentRequest, current: Deployment | None) -> bool:
    """Whether the request's code is on this machine (to be sent), not the server's own: an
    update naming the source directory its deployment runs from keeps that code."""
    if not request.entry_script:
        return False
    if current is None:
        return True
    same_folder = request.source_directory is not None and (
        request.source_directory == current.source_directory
    )
    unchanged = (request.entry_script, request.source_directory) == (
        current.entry_script,
        current.source_directory,
    )
    return not (same_folder or unchanged)


@contextmanager
def packed_deployment(request: DeploymentRequest, body: dict[str, Any]) -> Iterator[Path]:
    """The deployment and its code as a temporary archive (deleted when the block ends)."""
    entry_script, stage = _code_of(request)
    description = {**body, "entry_script": entry_script, "source_directory": None}
    with packed(DEPLOYMENT_FILE, CODE_PREFIX, description, stage) as archive:
        yield archive


def _code_of(request: DeploymentRequest) -> tuple[str, Callable[[Path], None]]:
    """The entry script's path inside the code sent, and how to write that code."""
    assert request.entry_script is not None  # uploads_code said so
    if not request.source_directory:
        script = existing_script(request.entry_script)

        def copy_script(folder: Path) -> None:
            folder.mkdir()
            shutil.copy2(script, folder / script.name)

        return script.name, copy_script
    source = existing_folder(request.source_directory)
    entry = Path(request.entry_script).expanduser()
    if entry.is_absolute():
        if not entry.resolve().is_relative_to(source):
            raise InvalidValue(
                f"entry script {str(entry)!r} is outside the source directory {str(source)!r}:"
                " only that folder is sent to the server; move the script into it",
                entry_script=str(entry),
            )
        entry = entry.resolve().relative_to(source)

    def snapshot(folder: Path) -> None:
        take_snapshot(source, folder)

    return safe_relative_path(entry.as_posix()), snapshot


def existing_folder(path: str) -> Path:
    source = Path(path).expanduser().resolve()
    if not source.is_dir():
        raise InvalidValue(f"source directory {str(source)!r} is not a folder")
    return source


def existing_script(path: str) -> Path:
    script = Path(path).expanduser().resolve()
    if not script.is_file():
        raise InvalidValue(f"entry script {str(script)!r} is not a file")
    return script
