"""A component version sent to this server as one tar archive (`store/rest_components.py`
packs it): `component.json` (the definition, the version asked for, the code's manifest hash),
then `files/<relpath>`. Checked whole before anything is stored: the archive by
`upload_archive.unpack`, the definition by the same checks a component file gets, and the
files against the manifest hash the client computed. Unpacked into the cache's staging
folder, registered from there, and removed whatever happens.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import IO, Any

from modelyard.data.manifest import build_manifest_of, list_files_to_version
from modelyard.entities.components import (
    COMPONENT_TYPE,
    ComponentSpec,
    validate_component_version,
)
from modelyard.environments import Environment
from modelyard.errors import ModelyardError
from modelyard.services.components import ComponentCreated, create_here
from modelyard.services.upload_archive import ArchiveForm, unpack, upload_refusal
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.rest_components import REQUEST_FILE
from modelyard.store.rest_data import FILES_PREFIX, REQUEST_FILE_MAX_BYTES


def create_from_archive(
    ws: OpenWorkspace, name: str, archive: IO[bytes], user: str
) -> ComponentCreated:
    folder = ws.cache_dir / "staging" / f"component-{uuid.uuid4().hex}"
    try:
        description = unpack(archive, folder / "files", ARCHIVE)
        spec = _spec(name, description)
        files = list_files_to_version(folder / "files") if (folder / "files").is_dir() else {}
        manifest = build_manifest_of(files, None)
        if manifest.content_hash != description.get("code_hash"):
            raise _refused(
                f"the code arrived with content {manifest.content_hash}, not"
                f" {description.get('code_hash')}: a file changed while it was sent"
            )
        return create_here(ws, spec, manifest, files, user)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spec(name: str, description: Mapping[str, Any]) -> ComponentSpec:
    definition = description.get("definition")
    if not isinstance(definition, Mapping):
        raise _refused("definition is not an object")
    if definition.get("type", COMPONENT_TYPE) != COMPONENT_TYPE:
        raise _refused(f"type is {definition.get('type')!r}; only command components register")
    try:
        version = description.get("version")
        spec = ComponentSpec.from_definition(name, definition)
        if version is not None:
            spec = replace(spec, version=validate_component_version(version, name))
        if spec.environment is not None:  # a step builds it: readable now, or refused
            Environment.from_dict(dict(spec.environment))
        return spec.check()
    except (KeyError, TypeError, ValueError) as error:
        raise _refused(f"definition is not readable ({error})") from None
    except ModelyardError as error:
        raise _refused(error.message) from None


_refused = upload_refusal(
    "component upload",
    "register components with the Modelyard SDK or CLI of the server's version",
)

ARCHIVE = ArchiveForm(REQUEST_FILE, REQUEST_FILE_MAX_BYTES, FILES_PREFIX, _refused)
