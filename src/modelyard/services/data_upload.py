"""A data version sent to this server as one tar archive (`store/rest_data.py` packs it):
`data.json`, then `files/<relpath>`. Checked whole before anything is created (only regular
files, every name through `safe_relative_path`); unpacked into the cache's staging folder,
versioned from there, and removed whatever happens.
"""

from __future__ import annotations

import shutil
import uuid
from typing import IO, Any

from modelyard.entities.data import DataType, DataVersionRequest
from modelyard.errors import InvalidValue
from modelyard.services.data import DataCreated, create_uploaded
from modelyard.services.upload_archive import ArchiveForm, unpack, upload_refusal
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.rest_data import FILES_PREFIX, REQUEST_FILE, REQUEST_FILE_MAX_BYTES


def create_from_archive(ws: OpenWorkspace, name: str, archive: IO[bytes], user: str) -> DataCreated:
    folder = ws.cache_dir / "staging" / f"data-{uuid.uuid4().hex}"
    try:
        description = unpack(archive, folder / "files", ARCHIVE)
        request = _request(name, description)
        sent = description.get("content_hash")
        if sent is not None and not isinstance(sent, str):
            raise _refused(f"content_hash is {sent!r}, not a string")
        # Checked against what arrived before anything is stored.
        return create_uploaded(ws, folder / "files", request, user, sent)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _request(name: str, data: dict[str, Any]) -> DataVersionRequest:
    tags = data.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise _refused("tags is not an object of strings")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise _refused(f"description is {description!r}, not a string")
    try:
        kind = DataType.parse(str(data.get("type") or DataType.URI_FOLDER.value))
    except InvalidValue as error:
        raise _refused(str(error)) from None
    return DataVersionRequest(name, kind, description, {str(k): v for k, v in tags.items()})


_refused = upload_refusal(
    "data upload", "create data versions with the Modelyard SDK or CLI of the server's version"
)


ARCHIVE = ArchiveForm(REQUEST_FILE, REQUEST_FILE_MAX_BYTES, FILES_PREFIX, _refused)
