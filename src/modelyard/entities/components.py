"""Command components, Azure ML v2's shape: a step's command, environment and typed ports,
registered in the workspace as immutable versions with a snapshot of their code.

A component is a name; each registration with different content adds a version numbered 1,
2, 3… per name (or the version its file asks for), never reusing a number. A version's
identity is `content_hash`: its definition (command, ports, environment, descriptions) and
its code snapshot's manifest hash together; registering the same content again makes no new
version. Archiving hides a version from lists and from `@latest` without deleting it: a
pipeline run that used it keeps naming it.

A component is named in a pipeline step as `azureml:NAME:VERSION`, `azureml:NAME@latest`,
`NAME:VERSION` or `NAME` (the latest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from modelyard.entities.names import validate_component_name
from modelyard.entities.pipelines import (
    Literal,
    PortType,
    check_command_ports,
    command_references,
)
from modelyard.entities.validation import check_version_number
from modelyard.errors import InvalidValue

COMPONENT_TYPE: Final = "command"  # the only kind registered today
LATEST: Final = "latest"
PREFIX: Final = "azureml:"
REFERENCE_FORMS: Final = "azureml:NAME:VERSION, azureml:NAME@latest or NAME:VERSION"


def validate_component_version(version: object, name: str = "") -> int:
    subject = f"component {name!r} version" if name else "component version"
    return check_version_number(version, subject, "modelyard component list", name=name)


@dataclass(frozen=True)
class ComponentInput:
    """A declared input: its type, its default (used when a step leaves it unbound), and
    whether a step may leave it out altogether."""

    type: PortType
    default: Literal | None = None
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type.value}
        if self.default is not None:
            data["default"] = self.default
        if self.optional:
            data["optional"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentInput:
        return cls(PortType(data["type"]), data.get("default"), bool(data.get("optional")))


@dataclass(frozen=True)
class ComponentSpec:
    """What a component file defines besides its code folder."""

    name: str
    command: tuple[str, ...]  # `python SCRIPT ARGS…`, references unrendered
    inputs: Mapping[str, ComponentInput] = field(default_factory=dict)
    outputs: Mapping[str, PortType] = field(default_factory=dict)
    environment: Mapping[str, Any] | None = None  # an environment spec's dict form
    display_name: str | None = None
    description: str | None = None
    version: int | None = None  # the version asked for; None: the next

    def check(self) -> ComponentSpec:
        validate_component_name(self.name)
        for name, kind in self.outputs.items():
            if not kind.is_data:
                raise InvalidValue(
                    f"component {self.name!r} output {name!r} is {kind.value}: a component's"
                    " outputs are folders or files it writes (uri_folder, uri_file,"
                    " custom_model)",
                    field=f"outputs.{name}",
                )
        where = f"component {self.name!r}"
        check_command_ports(
            where, "it", command_references(self.command), self.inputs, self.outputs
        )
        return self

    def definition(self) -> dict[str, Any]:
        """What the component does, without its name and version: half its identity."""
        return {
            "type": COMPONENT_TYPE,
            "command": list(self.command),
            "inputs": {name: port.to_dict() for name, port in self.inputs.items()},
            "outputs": {name: {"type": kind.value} for name, kind in self.outputs.items()},
            "environment": None if self.environment is None else dict(self.environment),
            "display_name": self.display_name,
            "description": self.description,
        }

    def content_hash(self, code_hash: str) -> str:
        """The version's identity: its definition and its code snapshot's manifest hash."""
        text = json.dumps({"definition": self.definition(), "code": code_hash}, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_definition(cls, name: str, data: Mapping[str, Any]) -> ComponentSpec:
        return cls(
            name=name,
            command=tuple(str(word) for word in data["command"]),
            inputs={k: ComponentInput.from_dict(v) for k, v in dict(data["inputs"]).items()},
            outputs={k: PortType(v["type"]) for k, v in dict(data["outputs"]).items()},
            environment=data.get("environment"),
            display_name=data.get("display_name"),
            description=data.get("description"),
        )


@dataclass(frozen=True)
class ComponentVersion:
    spec: ComponentSpec
    version: int
    code_hash: str  # the code snapshot's manifest hash (its files are blobs by SHA-256)
    content_hash: str
    created_at: datetime
    created_by: str
    archived: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reference(self) -> str:
        return f"{PREFIX}{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "reference": self.reference,
            **self.spec.definition(),
            "code_hash": self.code_hash,
            "content_hash": self.content_hash,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "archived": self.archived,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentVersion:
        return cls(
            spec=ComponentSpec.from_definition(str(data["name"]), data),
            version=int(data["version"]),
            code_hash=str(data["code_hash"]),
            content_hash=str(data["content_hash"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=str(data["created_by"]),
            archived=bool(data.get("archived")),
        )


@dataclass(frozen=True)
class Component:
    """A component's name with a summary of its versions."""

    name: str
    created_at: datetime
    updated_at: datetime
    latest_version: int | None  # the latest not archived
    version_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "latest_version": self.latest_version,
            "version_count": self.version_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Component:
        return cls(
            name=str(data["name"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            latest_version=data.get("latest_version"),
            version_count=int(data["version_count"]),
        )


@dataclass(frozen=True)
class ComponentReference:
    """Which version of which component: `version`, or None for the latest not archived."""

    name: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@latest"


def parse_component_reference(text: object) -> ComponentReference:
    """`azureml:NAME:VERSION`, `azureml:NAME@latest`, `NAME:VERSION`, `NAME@latest`, `NAME`."""
    body = str(text).strip().removeprefix(PREFIX) if isinstance(text, str) else ""
    name, at, label = body.partition("@")
    if at and label.lower() != LATEST:
        raise _bad_reference(text, f"names label {label!r}; only @latest is known")
    if not at:
        name, colon, version = body.partition(":")
        if colon and version.lower() != LATEST:
            return ComponentReference(
                _reference_name(name, text), validate_component_version(version, name)
            )
    return ComponentReference(_reference_name(name, text))


def _reference_name(name: str, text: object) -> str:
    if not name or ":" in name or "@" in name:
        raise _bad_reference(text, "is not one of the forms")
    return validate_component_name(name)


def _bad_reference(text: object, problem: str) -> InvalidValue:
    return InvalidValue(
        f"component reference {str(text)[:200]!r} {problem}: use {REFERENCE_FORMS}",
        reference=str(text)[:200],
    )
