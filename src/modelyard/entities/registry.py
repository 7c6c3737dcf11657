"""The model registry's vocabulary: registered models, their versions, aliases and references.

A model is a name; each registration adds a version numbered 1, 2, 3… per name. A version's
files are immutable (each recorded with its SHA-256 and size); its tags may change, its
properties may only be added to, and its lineage (the run, experiment and data it came from)
is fixed. An alias (`champion`, `staging`) is a movable pointer from a name to one version.

A model is named anywhere as a reference: `NAME` (the latest version), `NAME:VERSION`,
`NAME@ALIAS`, or MLflow's `models:/NAME/VERSION`, `models:/NAME@ALIAS`, `models:/NAME/latest`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from modelyard.entities import limits
from modelyard.entities.names import validate_model_name
from modelyard.entities.validation import check_pairs, check_version_number
from modelyard.errors import InvalidName, InvalidValue, LimitExceeded

LATEST: Final = "latest"
# An alias starts with a letter: `NAME@3` would read as a version to a person.
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MLFLOW_PREFIX: Final = "models:/"
REFERENCE_FORMS: Final = "NAME, NAME:VERSION, NAME@ALIAS or models:/NAME/VERSION"


def validate_alias(alias: str) -> str:
    if (
        not isinstance(alias, str)
        or len(alias) > limits.MODEL_ALIAS_MAX
        or not _ALIAS.fullmatch(alias)
        or alias.lower() == LATEST
    ):
        raise InvalidName(
            f"invalid alias {alias!r}: use 1–{limits.MODEL_ALIAS_MAX} letters, digits, '-' or"
            f" '_', starting with a letter, and not {LATEST!r} (for example 'champion')",
            kind="alias",
            name=str(alias),
        )
    return alias


def validate_version(version: object, model: str = "") -> int:
    subject = f"model {model!r} version" if model else "model version"
    return check_version_number(version, subject, "modelyard model show NAME", model=model)


@dataclass(frozen=True)
class ModelReference:
    """Which version of which model: exactly one of `version` and `alias`, or neither (the
    latest version)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def parse_model_reference(text: str) -> ModelReference:
    """`NAME`, `NAME:VERSION`, `NAME@ALIAS`, `models:/NAME/VERSION|latest`, `models:/NAME@ALIAS`;
    a bad one raises naming the forms."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue(
            f"model reference {text!r} is empty: use {REFERENCE_FORMS}", reference=str(text)
        )
    text = text.strip()
    if text.startswith(_MLFLOW_PREFIX):
        return _parse_mlflow_uri(text)
    name, sep, alias = text.partition("@")
    if sep:
        return ModelReference(_reference_name(name, text), alias=validate_alias(alias))
    name, sep, version = text.partition(":")
    if not sep:
        return ModelReference(_reference_name(name, text))
    if version.lower() == LATEST:
        return ModelReference(_reference_name(name, text))
    return ModelReference(_reference_name(name, text), version=validate_version(version, name))


def _parse_mlflow_uri(text: str) -> ModelReference:
    rest = text[len(_MLFLOW_PREFIX) :]
    if "@" in rest:
        name, _, alias = rest.partition("@")
        return ModelReference(_reference_name(name, text), alias=validate_alias(alias))
    name, sep, version = rest.partition("/")
    if not sep or "/" in version:
        raise InvalidValue(
            f"model URI {text!r} names no version: use models:/NAME/VERSION,"
            " models:/NAME/latest or models:/NAME@ALIAS",
            reference=text,
        )
    if version.lower() == LATEST:
        return ModelReference(_reference_name(name, text))
    return ModelReference(_reference_name(name, text), version=validate_version(version, name))


def _reference_name(name: str, text: str) -> str:
    if ":" in name or "@" in name:
        raise InvalidValue(
            f"model reference {text!r} is not one of {REFERENCE_FORMS}", reference=text
        )
    return validate_model_name(name)


@dataclass(frozen=True)
class ModelFile:
    """One file of a version: its path inside the model, its SHA-256 and size."""

    path: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelFile:
        sha = str(data["sha256"])
        if not _SHA256.fullmatch(sha):
            raise InvalidValue(f"file {data.get('path')!r} has no SHA-256 hex digest", sha=sha)
        return cls(path=str(data["path"]), sha256=sha, size=int(data["size"]))


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: the run that made it, its experiment, and the data."""

    run_id: str | None = None
    experiment: str | None = None
    data_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "experiment": self.experiment, "data_hash": self.data_hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Lineage:
        data = data or {}
        return cls(
            run_id=data.get("run_id"),
            experiment=data.get("experiment"),
            data_hash=data.get("data_hash"),
        )


@dataclass(frozen=True)
class ModelVersionRequest:
    """What a registration asks for besides the files; `check()` refuses what is wrong in it."""

    name: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    framework: str | None = None
    input_schema: Any = None
    output_schema: Any = None
    lineage: Lineage = field(default_factory=Lineage)

    def check(self) -> ModelVersionRequest:
        validate_model_name(self.name)
        check_description(self.description)
        check_pairs("tag", self.tags, limits.TAG_KEY_MAX, limits.TAG_VALUE_MAX)
        check_pairs("property", self.properties, limits.PROPERTY_KEY_MAX, limits.PROPERTY_VALUE_MAX)
        if self.framework is not None and (not self.framework or len(self.framework) > 64):
            raise InvalidValue(
                f"framework {self.framework!r} must be 1–64 characters, like 'onnx'",
                framework=self.framework,
            )
        return self


def check_description(description: str | None) -> None:
    if description is not None and len(description) > limits.MODEL_DESCRIPTION_MAX:
        raise LimitExceeded(
            f"description is {len(description)} characters, over the limit of"
            f" {limits.MODEL_DESCRIPTION_MAX}: shorten it",
            limit=limits.MODEL_DESCRIPTION_MAX,
        )


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    files: tuple[ModelFile, ...]
    created_at: datetime
    created_by: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    framework: str | None = None
    input_schema: Any = None
    output_schema: Any = None
    lineage: Lineage = field(default_factory=Lineage)
    aliases: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "reference": self.reference,
            "files": [file.to_dict() for file in self.files],
            "size": self.size,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "description": self.description,
            "tags": dict(self.tags),
            "properties": dict(self.properties),
            "framework": self.framework,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "lineage": self.lineage.to_dict(),
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersion:
        return cls(
            name=data["name"],
            version=int(data["version"]),
            files=tuple(ModelFile.from_dict(item) for item in data.get("files") or ()),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data["created_by"],
            description=data.get("description"),
            tags=dict(data.get("tags") or {}),
            properties=dict(data.get("properties") or {}),
            framework=data.get("framework"),
            input_schema=data.get("input_schema"),
            output_schema=data.get("output_schema"),
            lineage=Lineage.from_dict(data.get("lineage")),
            aliases=tuple(data.get("aliases") or ()),
        )


@dataclass(frozen=True)
class RegisteredModel:
    """A model's name with a summary of its versions: the latest and the aliases."""

    name: str
    created_at: datetime
    updated_at: datetime
    latest_version: int | None
    version_count: int
    aliases: Mapping[str, int] = field(default_factory=dict)
    framework: str | None = None  # the latest version's

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "latest_version": self.latest_version,
            "version_count": self.version_count,
            "aliases": dict(self.aliases),
            "framework": self.framework,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegisteredModel:
        return cls(
            name=data["name"],
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            latest_version=data.get("latest_version"),
            version_count=int(data["version_count"]),
            aliases={str(k): int(v) for k, v in (data.get("aliases") or {}).items()},
            framework=data.get("framework"),
        )


@dataclass(frozen=True)
class ModelAlias:
    name: str
    alias: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "alias": self.alias, "version": self.version}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelAlias:
        return cls(name=data["name"], alias=data["alias"], version=int(data["version"]))
