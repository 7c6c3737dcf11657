"""Registered components of a workspace behind a server, through its `/components` routes.

A version is registered in one request: the definition (`component.json`: the spec and the
code's manifest hash) and the code's files as one tar archive, the same form a data version
takes; the server finds a version with the same content or adds one. A version's code comes
back file by file, each checked against the SHA-256 its manifest records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from modelyard.entities.components import (
    Component,
    ComponentReference,
    ComponentSpec,
    ComponentVersion,
)
from modelyard.entities.data import Manifest, ManifestEntry
from modelyard.entities.names import validate_component_name
from modelyard.store.rest_client import RestClient, segment
from modelyard.store.rest_data import DATA_ARCHIVE_TYPE, download_entry, fetch_manifest, pack_files

REQUEST_FILE: Final = "component.json"


class RestComponents:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def create(
        self, spec: ComponentSpec, manifest: Manifest, files: Mapping[str, Path]
    ) -> tuple[ComponentVersion, bool]:
        description = {
            "version": spec.version,
            "definition": spec.definition(),
            "code_hash": manifest.content_hash,
        }
        with tempfile.TemporaryFile() as archive:
            pack_files(archive, REQUEST_FILE, description, files)
            archive.seek(0)
            answer = self.client.call(
                "POST",
                f"/components/{segment(spec.name)}/versions",
                content=archive,
                headers={"Content-Type": DATA_ARCHIVE_TYPE},
            )
        return ComponentVersion.from_dict(answer["version"]), bool(answer["created"])

    def list_components(self) -> list[Component]:
        return [Component.from_dict(item) for item in self.client.call("GET", "/components")]

    def list_versions(self, name: str, include_archived: bool) -> list[ComponentVersion]:
        answer = self.client.call(
            "GET",
            f"/components/{segment(name)}/versions",
            params={"include_archived": include_archived},
        )
        return [ComponentVersion.from_dict(item) for item in answer]

    def resolve(self, reference: ComponentReference) -> ComponentVersion:
        route = f"/components/{segment(reference.name)}/versions/{reference.version or 'latest'}"
        version = ComponentVersion.from_dict(self.client.call("GET", route))
        validate_component_name(version.name)  # it names a folder of this machine's cache
        return version

    def manifest(self, version: ComponentVersion) -> Manifest:
        return fetch_manifest(self.client, _route(version), version.code_hash, version.reference)

    def download_file(
        self, version: ComponentVersion, entry: ManifestEntry, destination: Path
    ) -> None:
        download_entry(self.client, _route(version), entry, destination, version.reference)

    def set_archived(self, name: str, version: int, archived: bool) -> ComponentVersion:
        route = f"/components/{segment(name)}/versions/{version}"
        answer = self.client.call("PATCH", route, json={"archived": archived})
        return ComponentVersion.from_dict(answer)


def _route(version: ComponentVersion) -> str:
    return f"/components/{segment(version.name)}/versions/{version.version}"
