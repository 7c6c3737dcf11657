"""Data assets in Azure ML's SDK shapes, over `services.data`.

v2 (`azure.ai.ml`): an entity and the operations on it::

    data = ws.data.create_or_update(Data(name="flowers", path="./flowers", type="uri_folder"))
    ws.data.get("flowers", label="latest"); ws.data.get("flowers", version=3)
    ws.data.list(); ws.data.list(name="flowers"); ws.data.archive("flowers", version=2)
    data.path        # the version's files, read-only, on this machine

v1 (`azureml.core.Dataset`)::

    ds = Dataset.File.from_files("./flowers").register(ws, "flowers")
    ds = Dataset.get_by_name(ws, "flowers", version="latest"); ds.download("here")
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from modelyard.entities.data import (
    LATEST,
    DataReference,
    DataType,
    DataVersion,
    DataVersionRequest,
    validate_data_version,
)
from modelyard.errors import InvalidValue
from modelyard.services import data as service
from modelyard.services.workspaces import OpenWorkspace


class _HasOpenWorkspace(Protocol):
    """The SDK's `Workspace` (sdk/_objects.py), as far as data needs it."""

    _opened: OpenWorkspace


class Data:
    """Azure v2's `Data` entity: what to version (`path`, `type`, …) before it is created; the
    version's record (`version`, `content_hash`, …) after."""

    def __init__(
        self,
        *,
        name: str,
        path: str | Path | None = None,
        type: str = DataType.URI_FOLDER.value,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        version: str | int | None = None,
    ) -> None:
        self.name = name
        self._path = None if path is None else str(path)
        self.type = DataType.parse(type).value
        self.description = description
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self.version = None if version is None else str(version)
        self.created = False  # after create_or_update: whether a new version was made
        self._record: DataVersion | None = None
        self._opened: OpenWorkspace | None = None

    @classmethod
    def _of(cls, opened: OpenWorkspace, record: DataVersion, created: bool = False) -> Data:
        found = cls(
            name=record.name,
            type=record.type.value,
            description=record.description,
            tags=record.tags,
            version=record.version,
        )
        found._record, found._opened, found.created = record, opened, created
        return found

    @property
    def path(self) -> str | None:
        """Before creation, what to version; after, the version's files, read-only, on this
        machine (materialised on first use)."""
        if self._record is None or self._opened is None:
            return self._path
        return str(service.data_path(self._opened, self._record))

    @path.setter
    def path(self, value: str | Path | None) -> None:
        self._path = None if value is None else str(value)

    @property
    def id(self) -> str:
        """`azureml:NAME:VERSION`, what a job's input names."""
        return f"azureml:{self.name}:{self.version}"

    @property
    def content_hash(self) -> str | None:
        return None if self._record is None else self._record.content_hash

    @property
    def parent_version(self) -> int | None:
        return None if self._record is None else self._record.parent_version

    def download(self, target_path: str | Path) -> Path:
        """The version's files written into `target_path` (a new or empty folder)."""
        if self._record is None or self._opened is None:
            raise InvalidValue(
                f"data asset {self.name!r} is not created yet: ws.data.create_or_update(data)"
            )
        reference = DataReference(self._record.name, self._record.version)
        service.download(self._opened, reference, Path(target_path))
        return Path(target_path)

    def __repr__(self) -> str:
        return f"Data(name={self.name!r}, version={self.version!r}, type={self.type!r})"


class DataOperations:
    """Azure v2's `ml_client.data`: `ws.data`."""

    def __init__(self, workspace: _HasOpenWorkspace) -> None:
        self._opened = workspace._opened

    def create_or_update(self, data: Data) -> Data:
        """A new version of `data.name` holding `data.path`, or the latest one when its
        content is the same (`created` False)."""
        if data.path is None:
            raise InvalidValue(f"Data {data.name!r} has no path: Data(name=…, path='./folder')")
        if data.version is not None:
            raise InvalidValue(
                f"Data {data.name!r} names version {data.version}: versions are numbered by"
                " the workspace, in order, and never reused; leave version out"
            )
        request = DataVersionRequest(data.name, DataType(data.type), data.description, data.tags)
        result = service.create_data(self._opened, Path(data.path), request)
        return Data._of(self._opened, result.version, result.created)

    def get(self, name: str, version: str | int | None = None, label: str | None = None) -> Data:
        """A version (`version=3`), or the latest not archived (`label="latest"`, or neither)."""
        if label is not None and label != LATEST:
            raise InvalidValue(f"label {label!r} is not known: use label='latest' or version=N")
        number = None if version is None else validate_data_version(version, name)
        record = service.get_data_version(self._opened, DataReference(name, number))
        return Data._of(self._opened, record)

    def list(self, name: str | None = None) -> builtins.list[Data]:
        """The latest version of each asset, or every version of `name` (newest first)."""
        if name is not None:
            versions = service.list_versions(self._opened, name)
            return [Data._of(self._opened, record) for record in versions]
        return [
            self.get(asset.name)
            for asset in service.list_assets(self._opened)
            if asset.latest_version is not None
        ]

    def archive(self, name: str, version: str | int | None = None) -> None:
        reference = name if version is None else f"{name}:{version}"
        service.set_archived(self._opened, reference, True)

    def restore(self, name: str, version: str | int | None = None) -> None:
        reference = name if version is None else f"{name}:{version}"
        service.set_archived(self._opened, reference, False)


class _Unregistered:
    """v1's `Dataset.File.from_files(path)` before `register`."""

    def __init__(self, path: str | Path, kind: DataType) -> None:
        self.path, self.kind = Path(path), kind

    def register(
        self,
        workspace: _HasOpenWorkspace,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        create_new_version: bool = True,
    ) -> Dataset:
        tags = {str(k): str(v) for k, v in (tags or {}).items()}
        request = DataVersionRequest(name, self.kind, description, tags)
        result = service.create_data(workspace._opened, self.path, request)
        return Dataset(workspace._opened, result.version)


class _Factory:
    def __init__(self, kind: DataType) -> None:
        self.kind = kind

    def from_files(self, path: str | Path) -> _Unregistered:
        return _Unregistered(path, self.kind)

    def from_delimited_files(self, path: str | Path) -> _Unregistered:
        return _Unregistered(path, self.kind)


class Dataset:
    """Azure v1's `Dataset`: one registered version."""

    File = _Factory(DataType.URI_FOLDER)
    Tabular = _Factory(DataType.TABLE)

    def __init__(self, opened: OpenWorkspace, record: DataVersion) -> None:
        self._opened, self._record = opened, record

    @classmethod
    def get_by_name(
        cls, workspace: _HasOpenWorkspace, name: str, version: str | int = LATEST
    ) -> Dataset:
        number = None if str(version) == LATEST else validate_data_version(version, name)
        record = service.get_data_version(workspace._opened, DataReference(name, number))
        return cls(workspace._opened, record)

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> int:
        return self._record.version

    @property
    def id(self) -> str:
        return self._record.content_hash

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    def to_path(self) -> list[str]:
        """The version's files, as `/relative/path` (v1's FileDataset.to_path)."""
        manifest = service.read_manifest(self._opened, self._record)
        return ["/" + entry.relpath for entry in manifest.entries]

    def download(self, target_path: str | Path) -> list[str]:
        """The files written into `target_path` (a new or empty folder); their paths."""
        target = Path(target_path)
        service.download(self._opened, DataReference(self.name, self.version), target)
        return [str(target / relative.lstrip("/")) for relative in self.to_path()]

    def as_local_path(self) -> str:
        """The version's files, read-only, on this machine."""
        return str(service.data_path(self._opened, self._record))

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, version={self.version})"
