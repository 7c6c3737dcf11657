"""The model registry of a workspace behind a server, through its `/models` routes.

A folder is registered as one tar archive: `model.json` (the request: name, description, tags,
properties, framework, schemas, lineage), then `files/<path>` for each file. A run's artifacts
are registered by naming the run and the path: they never leave the server. Files come back one
by one and are checked against the SHA-256 the registry recorded.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities.registry import (
    ModelAlias,
    ModelFile,
    ModelReference,
    ModelVersion,
    ModelVersionRequest,
    RegisteredModel,
)
from modelyard.errors import StorageError
from modelyard.store.rest_client import RestClient, segment

REQUEST_FILE: Final = "model.json"
FILES_PREFIX: Final = "files/"
REQUEST_FILE_MAX_BYTES: Final = 4 * 1024 * 1024
MODEL_ARCHIVE_TYPE: Final = "application/x-tar"


def request_to_dict(request: ModelVersionRequest) -> dict[str, Any]:
    return {
        "description": request.description,
        "tags": dict(request.tags),
        "properties": dict(request.properties),
        "framework": request.framework,
        "input_schema": request.input_schema,
        "output_schema": request.output_schema,
        "lineage": request.lineage.to_dict(),
    }


class RestModels:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def register_files(
        self, request: ModelVersionRequest, files: Mapping[str, Path]
    ) -> ModelVersion:
        with tempfile.TemporaryFile() as archive:
            _pack(archive, request_to_dict(request), files)
            archive.seek(0)
            answer = self.client.call(
                "POST",
                f"/models/{segment(request.name)}/versions",
                content=archive,
                headers={"Content-Type": MODEL_ARCHIVE_TYPE},
            )
        return ModelVersion.from_dict(answer)

    def register_run_artifacts(
        self, request: ModelVersionRequest, run_id: str, path: str
    ) -> ModelVersion:
        body = {**request_to_dict(request), "run_id": run_id, "path": path}
        answer = self.client.call(
            "POST", f"/models/{segment(request.name)}/versions/from-run", json=body
        )
        return ModelVersion.from_dict(answer)

    def list_models(self) -> list[RegisteredModel]:
        return [RegisteredModel.from_dict(item) for item in self.client.call("GET", "/models")]

    def get_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.from_dict(self.client.call("GET", f"/models/{segment(name)}"))

    def list_versions(self, name: str) -> list[ModelVersion]:
        answer = self.client.call("GET", f"/models/{segment(name)}/versions")
        return [ModelVersion.from_dict(item) for item in answer]

    def list_run_versions(self, run_id: str) -> list[ModelVersion]:
        answer = self.client.call("GET", "/model-versions", params={"run_id": run_id})
        return [ModelVersion.from_dict(item) for item in answer]

    def resolve(self, reference: ModelReference) -> ModelVersion:
        name = segment(reference.name)
        if reference.alias is not None:
            path = f"/models/{name}/aliases/{segment(reference.alias)}"
        else:
            path = f"/models/{name}/versions/{reference.version or 'latest'}"
        return ModelVersion.from_dict(self.client.call("GET", path))

    def download_file(self, version: ModelVersion, file: ModelFile, destination: Path) -> None:
        path = "/".join(segment(part) for part in file.path.split("/"))
        route = f"/models/{segment(version.name)}/versions/{version.version}/files/{path}"
        if not self.client.download_checked(route, destination, file.sha256):
            raise StorageError(
                f"{file.path} of model {version.reference} arrived with another SHA-256 than"
                " the registry's: download it again",
                path=file.path,
            )

    def update_version(
        self,
        version: ModelVersion,
        set_tags: Mapping[str, str] | None,
        delete_tags: list[str] | None,
        add_properties: Mapping[str, str] | None,
        description: str | None,
    ) -> ModelVersion:
        body = {
            "set_tags": dict(set_tags or {}),
            "delete_tags": list(delete_tags or []),
            "add_properties": dict(add_properties or {}),
            "description": description,
        }
        route = f"/models/{segment(version.name)}/versions/{version.version}"
        return ModelVersion.from_dict(self.client.call("PATCH", route, json=body))

    def set_alias(self, name: str, alias: str, version: int) -> ModelAlias:
        route = f"/models/{segment(name)}/aliases/{segment(alias)}"
        return ModelAlias.from_dict(self.client.call("PUT", route, json={"version": version}))

    def delete_alias(self, name: str, alias: str) -> ModelAlias:
        route = f"/models/{segment(name)}/aliases/{segment(alias)}"
        return ModelAlias.from_dict(self.client.call("DELETE", route))

    def delete_version(self, name: str, version: int) -> None:
        self.client.call("DELETE", f"/models/{segment(name)}/versions/{version}")

    def delete_model(self, name: str) -> None:
        self.client.call("DELETE", f"/models/{segment(name)}")


def _pack(archive: Any, description: dict[str, Any], files: Mapping[str, Path]) -> None:
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = json.dumps(description).encode()
        info = tarfile.TarInfo(REQUEST_FILE)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for relative, source in files.items():
            tar.add(str(source), FILES_PREFIX + relative, recursive=False)
