"""Published pipelines, as Azure ML v1's `PublishedPipeline`/`PipelineEndpoint` have them: a
name with immutable versions 1, 2, … (each a pipeline's definition and its steps' code, frozen
when published), a default version (the latest unless one is set), each version enabled or
disabled, invoked with parameters (the pipeline's inputs) to start a pipeline run.

A version's parameters are its pipeline's inputs, with their types and defaults. Values given
at invocation are checked here, before anything is created: an unknown name is refused with
the closest declared one, a value of the wrong type with the type expected. From the command
line a value is text (`--set epochs=5`), read by its parameter's type (`parse_text`); over
JSON it comes typed (`check_value`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from modelyard.entities.names import validate_published_pipeline_name
from modelyard.entities.pipelines import Literal, PipelineInput, PortType, did_you_mean
from modelyard.entities.validation import check_version_number
from modelyard.errors import InvalidValue

_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})
_EXPECTED: Final = {
    PortType.STRING: "a string",
    PortType.INTEGER: "a whole number",
    PortType.NUMBER: "a number",
    PortType.BOOLEAN: "true or false",
    PortType.URI_FOLDER: "a data reference (data:NAME@latest) or a folder's path",
    PortType.URI_FILE: "a data reference (data:NAME@latest) or a file's path",
    PortType.CUSTOM_MODEL: "a model folder's path",
}


@dataclass(frozen=True)
class PipelineParameter:
    """One of a published pipeline's inputs: its type and its default value."""

    name: str
    type: PortType
    default: Literal

    @classmethod
    def of_input(cls, name: str, port: PipelineInput) -> PipelineParameter:
        return cls(name, port.type, port.value)

    def parse_text(self, text: str) -> Literal:
        """A value written on the command line, read as this parameter's type."""
        value: Literal | None = text
        if self.type is PortType.INTEGER:
            value = _whole_number(text)
        elif self.type is PortType.NUMBER:
            value = _whole_number(text)
            value = _number(text) if value is None else value
        elif self.type is PortType.BOOLEAN:
            lowered = text.strip().lower()
            value = True if lowered in _TRUE else False if lowered in _FALSE else None
        if value is None:
            raise self._wrong_type(text)
        return value

    def check_value(self, value: object) -> Literal:
        """A typed value (JSON's) of this parameter's type; an integer is a number too."""
        given = None if isinstance(value, list | dict) or value is None else value
        if isinstance(given, str | int | float | bool) and self.type.accepts(
            PortType.of_literal(given)
        ):
            return given
        if self.type.is_data and isinstance(given, str):
            return given
        raise self._wrong_type(value)

    def _wrong_type(self, value: object) -> InvalidValue:
        return InvalidValue(
            f"parameter {self.name!r} is {self.type.value} but got {str(value)[:80]!r}: give"
            f" {_EXPECTED[self.type]}",
            parameter=self.name,
            expected=self.type.value,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value, "default": self.default}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineParameter:
        return cls(str(data["name"]), PortType(data["type"]), data["default"])


def _whole_number(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def check_parameters(
    declared: Sequence[PipelineParameter], given: Mapping[str, object], *, as_text: bool
) -> dict[str, Literal]:
    """`given` checked against `declared`: each known and of its type (`as_text`: command-line
    text, read by the type). Parameters not given keep their defaults."""
    by_name = {parameter.name: parameter for parameter in declared}
    checked: dict[str, Literal] = {}
    for name, value in given.items():
        parameter = by_name.get(name)
        if parameter is None:
            raise InvalidValue(
                f"the published pipeline has no parameter {name!r}{did_you_mean(name, by_name)}",
                parameter=name,
            )
        checked[name] = (
            parameter.parse_text(str(value)) if as_text else parameter.check_value(value)
        )
    return checked


def parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    """`--set NAME=VALUE` words as a mapping; the value may hold `=`."""
    parsed: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip():
            raise InvalidValue(
                f"parameter assignment {assignment[:80]!r} is not NAME=VALUE: write it as"
                " --set epochs=5",
                assignment=assignment[:80],
            )
        parsed[name.strip()] = value
    return parsed


@dataclass(frozen=True)
class PublishedPipelineVersion:
    """One immutable version: where its files are (relative to the workspace's published
    pipelines folder), its parameters, and whether it may run."""

    name: str
    version: int
    description: str
    pipeline: str  # the pipeline's own name (its display name)
    parameters: tuple[PipelineParameter, ...]
    folder: str
    enabled: bool
    created_by: str
    created_at: datetime
    source_run: str | None = None  # the pipeline run it was published from, if any

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.version}"

    def refuse_if_disabled(self) -> None:
        if not self.enabled:
            raise InvalidValue(
                f"published pipeline {self.reference} is disabled: enable it with `modelyard"
                f" pipeline published enable {self.name} {self.version}`, or invoke another"
                " version",
                published_pipeline=self.name,
                version=self.version,
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "pipeline": self.pipeline,
            "parameters": [parameter.to_dict() for parameter in self.parameters],
            "enabled": self.enabled,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "source_run": self.source_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishedPipelineVersion:
        return cls(
            name=str(data["name"]),
            version=int(data["version"]),
            description=str(data.get("description") or ""),
            pipeline=str(data["pipeline"]),
            parameters=tuple(PipelineParameter.from_dict(p) for p in data["parameters"]),
            folder=str(data.get("folder") or ""),  # the server's disk: not sent
            enabled=bool(data["enabled"]),
            created_by=str(data["created_by"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            source_run=data.get("source_run"),
        )


@dataclass(frozen=True)
class PublishedPipeline:
    """A published pipeline's name: its versions' count and the default version."""

    name: str
    description: str
    latest_version: int
    default_version: int | None  # None: the latest
    created_by: str
    created_at: datetime

    @property
    def effective_default(self) -> int:
        return self.default_version or self.latest_version

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "latest_version": self.latest_version,
            "default_version": self.effective_default,
            "default_is_latest": self.default_version is None,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishedPipeline:
        default = None if data.get("default_is_latest") else int(data["default_version"])
        return cls(
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            latest_version=int(data["latest_version"]),
            default_version=default,
            created_by=str(data["created_by"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


def parse_published_reference(text: str) -> tuple[str, int | None]:
    """`NAME` (its default version) or `NAME:VERSION`."""
    name, colon, version = text.partition(":")
    validate_published_pipeline_name(name)
    return name, (check_version(version, name) if colon else None)


def check_version(version: object, name: str) -> int:
    listed_by = f"modelyard pipeline published show {name}"
    return check_version_number(version, "version", listed_by, published_pipeline=name)
