"""Data assets' vocabulary: assets, their versions, the manifest of a version's files, and
references.

A data asset is a name; each `data create` with different content adds a version numbered 1,
2, 3… per name, never reusing a number. A version's identity is its content: the manifest
(each file's path, size and SHA-256, sorted by path) hashed into `content_hash`; content equal
to the latest version's makes no new version. A version records the version it followed
(`parent_version`); archiving hides it from lists and from `@latest` without deleting it
(Azure ML's rule), and a run that read it keeps naming it.

A data asset is named anywhere as a reference, Azure ML's forms with our prefix or Azure's:
`data:NAME@latest`, `data:NAME:3`, `azureml:NAME@latest`, `azureml:NAME:3`; where only a data
asset can be meant (the `data` commands) the prefix may be left out: `NAME`, `NAME:3`.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from modelyard.entities import limits
from modelyard.entities.names import validate_data_name
from modelyard.entities.validation import check_pairs, check_version_number
from modelyard.errors import InvalidValue, LimitExceeded

LATEST: Final = "latest"
PREFIXES: Final = ("data:", "azureml:")
REFERENCE_FORMS: Final = "data:NAME@latest, data:NAME:VERSION or azureml:NAME:VERSION"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# A manifest line is `path\tsize\tsha256\n`: a path holding either separator can't be written.
_MANIFEST_SEPARATORS = ("\t", "\n", "\r")


class DataType(enum.StrEnum):
    """Azure ML v2's asset types: a folder, one file, or a table (a file or folder of them)."""

    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"
    TABLE = "table"

    @classmethod
    def parse(cls, text: str) -> DataType:
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise InvalidValue(
                f"data type {text!r} is not one of {known}: pass --type uri_folder for a folder",
                type=str(text),
            ) from None


def validate_data_version(version: object, name: str = "") -> int:
    subject = f"data asset {name!r} version" if name else "data asset version"
    return check_version_number(version, subject, "modelyard data list NAME", name=name)


@dataclass(frozen=True)
class DataReference:
    """Which version of which asset: `version`, or None for the latest not archived."""

    name: str
    version: int | None = None

    def __str__(self) -> str:
        return f"data:{self.name}:{self.version}" if self.version else f"data:{self.name}@latest"


def is_data_reference(text: object) -> bool:
    """Whether `text` is written as a data asset reference (prefixed), not a path or a value."""
    return isinstance(text, str) and text.strip().startswith(PREFIXES)


def parse_data_reference(text: str, *, prefix_required: bool = False) -> DataReference:
    """`data:NAME@latest`, `data:NAME:3`, `azureml:NAME@latest`, `azureml:NAME:3`; without the
    prefix (unless `prefix_required`) `NAME`, `NAME:3`, `NAME@latest`. A bad one raises
    naming the forms."""
    if not isinstance(text, str) or not text.strip():
        raise _bad_reference(str(text), "is empty")
    body = text.strip()
    prefix = next((p for p in PREFIXES if body.startswith(p)), None)
    if prefix is not None:
        body = body[len(prefix) :]
    elif prefix_required:
        raise _bad_reference(text, "has no data: prefix")
    name, sep, label = body.partition("@")
    if sep:
        if label.lower() != LATEST:
            raise _bad_reference(text, f"names label {label!r}; only @latest is known")
        return DataReference(_reference_name(name, text))
    name, sep, version = body.partition(":")
    if not sep or version.lower() == LATEST:
        return DataReference(_reference_name(name, text))
    return DataReference(_reference_name(name, text), validate_data_version(version, name))


def _reference_name(name: str, text: str) -> str:
    if not name or ":" in name or "@" in name:
        raise _bad_reference(text, "is not one of the forms")
    return validate_data_name(name)


def _bad_reference(text: str, problem: str) -> InvalidValue:
    return InvalidValue(
        f"data reference {text!r} {problem}: use {REFERENCE_FORMS}", reference=str(text)[:300]
    )


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a version: its POSIX path inside the asset (a single file's: its name),
    its size and SHA-256."""

    relpath: str
    size: int
    sha256: str

    def line(self) -> str:
        return f"{self.relpath}\t{self.size}\t{self.sha256}\n"

    @classmethod
    def from_line(cls, line: str) -> ManifestEntry:
        relpath, size, sha = line.rstrip("\n").split("\t")
        if not _SHA256.fullmatch(sha) or not size.isdigit():
            raise InvalidValue(f"manifest line {line[:200]!r} is not path, size and SHA-256")
        return cls(relpath, int(size), sha)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.relpath, "size": self.size, "sha256": self.sha256}


def hash_of_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The files of a folder or file, sorted by path, and their hash (`data/manifest.py`
    builds it); `hashed` files were read, `cached` ones known unchanged to the hash cache."""

    entries: tuple[ManifestEntry, ...]
    content_hash: str
    hashed: int = 0
    cached: int = 0

    @classmethod
    def of(cls, entries: Iterable[ManifestEntry], hashed: int = 0, cached: int = 0) -> Manifest:
        ordered = tuple(sorted(entries, key=lambda entry: entry.relpath))
        return cls(ordered, hash_of_text("".join(e.line() for e in ordered)), hashed, cached)

    @classmethod
    def from_text(cls, text: str) -> Manifest:
        return cls.of(ManifestEntry.from_line(line) for line in text.splitlines(keepends=True))

    @property
    def file_count(self) -> int:
        return len(self.entries)

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.entries)

    def text(self) -> str:
        return "".join(entry.line() for entry in self.entries)


def check_manifest_path(relpath: str) -> str:
    if any(separator in relpath for separator in _MANIFEST_SEPARATORS):
        raise InvalidValue(
            f"file name {relpath!r} holds a tab or line break, which a data manifest can't"
            " record: rename the file",
            path=relpath,
        )
    return relpath


@dataclass(frozen=True)
class DataVersionRequest:
    """What `data create` asks for besides the files; `check()` refuses what is wrong in it."""

    name: str
    type: DataType = DataType.URI_FOLDER
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def check(self) -> DataVersionRequest:
        validate_data_name(self.name)
        DataType.parse(self.type)
        if self.description is not None and len(self.description) > limits.DATA_DESCRIPTION_MAX:
            raise LimitExceeded(
                f"description is {len(self.description)} characters, over the limit of"
                f" {limits.DATA_DESCRIPTION_MAX}: shorten it",
                limit=limits.DATA_DESCRIPTION_MAX,
            )
        check_pairs("tag", self.tags, limits.TAG_KEY_MAX, limits.TAG_VALUE_MAX)
        return self


@dataclass(frozen=True)
class DataVersion:
    name: str
    version: int
    type: DataType
    content_hash: str  # the manifest's SHA-256: the version's identity
    file_count: int
    total_bytes: int
    created_at: datetime
    created_by: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    parent_version: int | None = None
    archived: bool = False

    @property
    def reference(self) -> str:
        return f"data:{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "reference": self.reference,
            "type": self.type.value,
            "content_hash": self.content_hash,
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "description": self.description,
            "tags": dict(self.tags),
            "parent_version": self.parent_version,
            "archived": self.archived,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataVersion:
        return cls(
            name=data["name"],
            version=int(data["version"]),
            type=DataType.parse(data["type"]),
            content_hash=str(data["content_hash"]),
            file_count=int(data["file_count"]),
            total_bytes=int(data["total_bytes"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data["created_by"],
            description=data.get("description"),
            tags=dict(data.get("tags") or {}),
            parent_version=data.get("parent_version"),
            archived=bool(data.get("archived")),
        )


@dataclass(frozen=True)
class DataAsset:
    """An asset's name with a summary of its versions."""

    name: str
    created_at: datetime
    updated_at: datetime
    latest_version: int | None  # the latest not archived
    version_count: int
    archived: bool = False
    # The latest version's, so a list of assets shows them without reading each version.
    latest_type: DataType | None = None
    latest_description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "latest_version": self.latest_version,
            "version_count": self.version_count,
            "archived": self.archived,
            "latest_type": None if self.latest_type is None else self.latest_type.value,
            "latest_description": self.latest_description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataAsset:
        return cls(
            name=data["name"],
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            latest_version=data.get("latest_version"),
            version_count=int(data["version_count"]),
            archived=bool(data.get("archived")),
            latest_type=DataType.parse(data["latest_type"]) if data.get("latest_type") else None,
            latest_description=data.get("latest_description"),
        )


@dataclass(frozen=True)
class RunInput:
    """A data asset version a run read (`run_inputs`), under the input's name in its job."""

    run_id: str
    input_name: str
    name: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "input_name": self.input_name,
            "name": self.name,
            "version": self.version,
            "reference": f"data:{self.name}:{self.version}",
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInput:
        return cls(data["run_id"], data["input_name"], data["name"], int(data["version"]))


@dataclass(frozen=True)
class DataLineage:
    """What came of a version: the runs that read it, the model versions registered from
    those runs, and the deployments serving those model versions."""

    version: DataVersion
    runs: tuple[dict[str, Any], ...] = ()  # {run_id, experiment, status, input_name}
    models: tuple[dict[str, Any], ...] = ()  # {name, version, run_id}
    deployments: tuple[dict[str, Any], ...] = ()  # {endpoint, deployment, model}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version.to_dict(),
            "runs": [dict(run) for run in self.runs],
            "models": [dict(model) for model in self.models],
            "deployments": [dict(item) for item in self.deployments],
        }
