"""A registration sent to this server as one tar archive (`store/rest_models.py` packs it):
`model.json`, then `files/<path>`. Checked whole before anything is registered: only regular
files, every name through `safe_relative_path`, no name twice; unpacked into the cache's
staging folder, registered from there, and removed whatever happens.
"""

from __future__ import annotations

import shutil
import uuid
from typing import IO, Any

from modelyard.entities import Caller
from modelyard.entities.registry import Lineage, ModelVersion, ModelVersionRequest
from modelyard.services import authorization
from modelyard.services.models import register_uploaded
from modelyard.services.upload_archive import ArchiveForm, unpack, upload_refusal
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.rest_models import FILES_PREFIX, REQUEST_FILE, REQUEST_FILE_MAX_BYTES


def register_archive(
    ws: OpenWorkspace, name: str, archive: IO[bytes], caller: Caller
) -> ModelVersion:
    folder = ws.cache_dir / "staging" / f"model-{uuid.uuid4().hex}"
    try:
        description = unpack(archive, folder / "files", ARCHIVE)
        request = request_from_dict(name, description)
        authorization.check_may_register_model(caller, request.lineage.run_id)
        return register_uploaded(ws, folder / "files", request, caller.name)
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


_refused = upload_refusal(
    "model upload", "register models with the Modelyard SDK or CLI of the server's version"
)


ARCHIVE = ArchiveForm(REQUEST_FILE, REQUEST_FILE_MAX_BYTES, FILES_PREFIX, _refused)
