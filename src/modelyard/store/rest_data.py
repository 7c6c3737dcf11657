"""Data assets of a workspace behind a server, through its `/data` routes.

A version is created in two steps: the latest version's content hash is asked first, and
content equal to it sends nothing; else the files go as one tar archive (`data.json`: type,
description, tags; then `files/<relpath>`). Files come back one by one, each checked against
the SHA-256 its manifest records.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities.data import (
    DataAsset,
    DataLineage,
    DataReference,
    DataVersion,
    DataVersionRequest,
    Manifest,
    ManifestEntry,
    RunInput,
    check_manifest_path,
)
from modelyard.entities.names import validate_data_name
from modelyard.errors import NotFound, StorageError
from modelyard.store.artifacts import safe_relative_path
from modelyard.store.rest_client import RestClient, segment

REQUEST_FILE: Final = "data.json"
FILES_PREFIX: Final = "files/"
REQUEST_FILE_MAX_BYTES: Final = 1024 * 1024
DATA_ARCHIVE_TYPE: Final = "application/x-tar"


class RestData:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def create(
        self, request: DataVersionRequest, manifest: Manifest, files: Mapping[str, Path]
    ) -> tuple[DataVersion, bool]:
        try:
            latest = self.resolve(DataReference(request.name))
            if latest.content_hash == manifest.content_hash:
                return latest, False
        except NotFound:
            pass
        description = {
            "type": request.type.value,
            "description": request.description,
            "tags": dict(request.tags),
            "content_hash": manifest.content_hash,
        }
        with tempfile.TemporaryFile() as archive:
            pack_files(archive, REQUEST_FILE, description, files)
            archive.seek(0)
            answer = self.client.call(
                "POST",
                f"/data/{segment(request.name)}/versions",
                content=archive,
                headers={"Content-Type": DATA_ARCHIVE_TYPE},
            )
        return DataVersion.from_dict(answer["version"]), bool(answer["created"])

    def list_assets(self, include_archived: bool) -> list[DataAsset]:
        answer = self.client.call("GET", "/data", params={"include_archived": include_archived})
        return [DataAsset.from_dict(item) for item in answer]

    def get_asset(self, name: str) -> DataAsset:
        return DataAsset.from_dict(self.client.call("GET", f"/data/{segment(name)}"))

    def list_versions(self, name: str, include_archived: bool) -> list[DataVersion]:
        answer = self.client.call(
            "GET", f"/data/{segment(name)}/versions", params={"include_archived": include_archived}
        )
        return [DataVersion.from_dict(item) for item in answer]

    def resolve(self, reference: DataReference) -> DataVersion:
        path = f"/data/{segment(reference.name)}/versions/{reference.version or 'latest'}"
        version = DataVersion.from_dict(self.client.call("GET", path))
        validate_data_name(version.name)  # it names a folder of this machine's cache
        return version

    def manifest(self, version: DataVersion) -> Manifest:
        route = _version_route(version)
        return fetch_manifest(self.client, route, version.content_hash, version.reference)

    def download_file(self, version: DataVersion, entry: ManifestEntry, destination: Path) -> None:
        download_entry(self.client, _version_route(version), entry, destination, version.reference)

    def set_archived(self, reference: DataReference, archived: bool) -> DataAsset | DataVersion:
        route = f"/data/{segment(reference.name)}"
        if reference.version is not None:
            route += f"/versions/{reference.version}"
        answer = self.client.call("PATCH", route, json={"archived": archived})
        if reference.version is None:
            return DataAsset.from_dict(answer)
        return DataVersion.from_dict(answer)

    def list_run_inputs(self, run_id: str) -> list[RunInput]:
        answer = self.client.call("GET", f"/runs/{segment(run_id)}/inputs")
        return [RunInput.from_dict(item) for item in answer]

    def lineage(self, version: DataVersion) -> DataLineage:
        answer = self.client.call("GET", f"{_version_route(version)}/lineage")
        return DataLineage(
            DataVersion.from_dict(answer["version"]),
            tuple(answer["runs"]),
            tuple(answer["models"]),
            tuple(answer["deployments"]),
        )


def _version_route(version: DataVersion) -> str:
    return f"/data/{segment(version.name)}/versions/{version.version}"


def pack_files(
    archive: Any, request_file: str, description: dict[str, Any], files: Mapping[str, Path]
) -> None:
    """The upload archive the server's `upload_archive.unpack` reads: `description` as JSON
    named `request_file`, then each file under `files/`."""
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = json.dumps(description).encode()
        info = tarfile.TarInfo(request_file)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for relative, source in files.items():
            tar.add(str(source), FILES_PREFIX + relative, recursive=False)


def fetch_manifest(client: RestClient, route: str, content_hash: str, owner: str) -> Manifest:
    """The manifest at `{route}/manifest`, checked to hash to `content_hash` (`owner`'s)."""
    answer = client.call("GET", f"{route}/manifest")
    # Where the files are written: a path from the server is checked like an upload's.
    manifest = Manifest.of(
        ManifestEntry(
            check_manifest_path(safe_relative_path(str(e["path"]))), int(e["size"]), e["sha256"]
        )
        for e in answer
    )
    if manifest.content_hash != content_hash:
        raise StorageError(
            f"the manifest of {owner} arrived with another hash than recorded: ask again",
            owner=owner,
        )
    return manifest


def download_entry(
    client: RestClient, route: str, entry: ManifestEntry, destination: Path, owner: str
) -> None:
    """The file `{route}/files/PATH`, checked against the SHA-256 its manifest records."""
    path = "/".join(segment(part) for part in entry.relpath.split("/"))
    if not client.download_checked(f"{route}/files/{path}", destination, entry.sha256):
        raise StorageError(
            f"{entry.relpath} of {owner} arrived with another SHA-256 than its manifest's:"
            " download it again",
            path=entry.relpath,
        )
