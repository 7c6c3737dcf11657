"""A registration sent to this server as one tar archive (`store/rest_models.py` packs it):
`model.json`, then `files/<path>`. Checked whole before anything is registered: only regular
files, every name through `safe_relative_path`, no name twice; unpacked into the cache's
staging folder, registered from there, and removed whatever happens.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import uuid
from pathlib import Path, PurePosixPath
from typing import IO, Any

from modelyard.entities.registry import Lineage, ModelVersion, ModelVersionRequest
from modelyard.errors import InvalidValue
from modelyard.services.models import register_uploaded
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import safe_relative_path
from modelyard.store.rest_models import FILES_PREFIX, REQUEST_FILE, REQUEST_FILE_MAX_BYTES


def register_archive(ws: OpenWorkspace, name: str, archive: IO[bytes], user: str) -> ModelVersion:
    folder = ws.cache_dir / "staging" / f"model-{uuid.uuid4().hex}"
    try:
        description = _unpack(archive, folder)
        request = request_from_dict(name, description)
        return register_uploaded(ws, folder / "files", request, user)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def request_from_dict(name: str, data: dict[str, Any]) -> ModelVersionRequest:
    """A registration request as a client sends it (the archive's `model.json`, or the JSON
    body of a registration from a run)."""
    lineage = data.get("lineage") or {}
    if not isinstance(lineage, dict):
        raise _refused("lineage is not an object")
    return ModelVersionRequest(
        name=name,
        description=_optional_text(data.get("description"), "description"),
        tags=_pairs(data.get("tags"), "tags"),
        properties=_pairs(data.get("properties"), "properties"),
        framework=_optional_text(data.get("framework"), "framework"),
        input_schema=data.get("input_schema"),
        output_schema=data.get("output_schema"),
        lineage=Lineage(
            run_id=_optional_text(lineage.get("run_id"), "lineage.run_id"),
            experiment=_optional_text(lineage.get("experiment"), "lineage.experiment"),
            data_hash=_optional_text(lineage.get("data_hash"), "lineage.data_hash"),
        ),
    ).check()


def _unpack(archive: IO[bytes], folder: Path) -> dict[str, Any]:
    (folder / "files").mkdir(parents=True)
    description: dict[str, Any] | None = None
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member in tar:
                if member.name == REQUEST_FILE and member.isfile():
                    description = _read_description(tar, member)
                else:
                    _extract_file(tar, member, folder / "files")
    except tarfile.TarError as error:
        raise _refused(f"the body is not a readable tar archive ({error})") from error
    if description is None:
        raise _refused(f"the archive has no {REQUEST_FILE}")
    return description


def _read_description(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    if member.size > REQUEST_FILE_MAX_BYTES:
        raise _refused(f"{REQUEST_FILE} is {member.size} bytes, over {REQUEST_FILE_MAX_BYTES}")
    handle = tar.extractfile(member)
    try:
        data = json.loads(handle.read() if handle else b"")
    except ValueError as error:
        raise _refused(f"{REQUEST_FILE} is not JSON ({error})") from error
    if not isinstance(data, dict):
        raise _refused(f"{REQUEST_FILE} is not a JSON object")
    return data


def _extract_file(tar: tarfile.TarFile, member: tarfile.TarInfo, folder: Path) -> None:
    if not member.name.startswith(FILES_PREFIX) or not member.isfile():
        raise _refused(f"archive member {member.name!r} is not a file under {FILES_PREFIX}")
    relative = safe_relative_path(member.name[len(FILES_PREFIX) :])
    target = folder.joinpath(*PurePosixPath(relative).parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has content
        with open(target, "xb") as out:  # "x": a name twice in one archive is refused
            shutil.copyfileobj(source, out)
    except (FileExistsError, NotADirectoryError) as error:
        raise _refused(f"archive member {member.name!r} clashes with an earlier one") from error


def _pairs(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _refused(f"{where} is not an object of strings")
    return {str(k): v for k, v in value.items()}


def _optional_text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _refused(f"{where} is {value!r}, not a string")
    return value


def _refused(problem: str) -> InvalidValue:
    return InvalidValue(
        f"model upload refused: {problem}; register models with the Modelyard SDK or CLI of"
        " the server's version",
        problem=problem,
    )
