"""A pipeline draft, as Azure's designer keeps one: a named pipeline YAML being edited in the
portal's designer, saved whether or not it would run yet.

The definition is the YAML text exactly as given, byte for byte (a CLI-made pipeline opens in
the designer and saves back unchanged); the layout is where the designer drew each node
(`{node id: {x, y}}`), kept beside the text so the YAML stays the one the CLI reads. Each save
moves the revision on by one; a save names the revision its editor opened, and one made
against an older revision is refused, so two editors never overwrite each other unseen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from modelyard.entities.names import validate_pipeline_draft_name
from modelyard.errors import InvalidValue

DEFINITION_MAX_CHARS: Final = 1_000_000  # a generous pipeline YAML; a database row, not a file
LAYOUT_MAX_NODES: Final = 2_000
NODE_ID_MAX_CHARS: Final = 255

Layout = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class DraftSummary:
    """A draft as a list shows it: all but its text and layout."""

    name: str
    revision: int  # 1 when created, +1 per save
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DraftSummary:
        return cls(
            name=str(data["name"]),
            revision=int(data["revision"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            created_by=str(data["created_by"]),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            updated_by=str(data["updated_by"]),
        )


@dataclass(frozen=True)
class PipelineDraft:
    summary: DraftSummary
    definition: str  # the YAML text, exactly as saved
    layout: Layout

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def revision(self) -> int:
        return self.summary.revision

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "definition": self.definition,
            "layout": {node: dict(position) for node, position in self.layout.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineDraft:
        return cls(
            summary=DraftSummary.from_dict(data),
            definition=str(data["definition"]),
            layout=check_layout(data.get("layout") or {}),
        )


def check_draft(name: str, definition: str) -> None:
    """What any store holds: a valid name, text of a sane size without NUL (PostgreSQL's text
    cannot hold one)."""
    validate_pipeline_draft_name(name)
    if len(definition) > DEFINITION_MAX_CHARS:
        raise InvalidValue(
            f"pipeline draft {name!r} definition is {len(definition)} characters, over the"
            f" {DEFINITION_MAX_CHARS} allowed: split the pipeline or shorten it",
            name=name,
        )
    if "\x00" in definition:
        raise InvalidValue(
            f"pipeline draft {name!r} definition holds a NUL character: save it as YAML text",
            name=name,
        )


def check_layout(layout: object) -> dict[str, dict[str, float]]:
    """`{node id: {x, y}}` with finite numbers; anything else refused in one line."""
    if not isinstance(layout, Mapping):
        raise InvalidValue(
            f"layout is {type(layout).__name__}: send an object of node positions,"
            ' {"NODE": {"x": 0, "y": 0}}',
            field="layout",
        )
    if len(layout) > LAYOUT_MAX_NODES:
        raise InvalidValue(
            f"layout has {len(layout)} nodes, over the {LAYOUT_MAX_NODES} allowed",
            field="layout",
        )
    return {_node_id(node): _position(node, position) for node, position in layout.items()}


def _node_id(node: object) -> str:
    if not isinstance(node, str) or not 1 <= len(node) <= NODE_ID_MAX_CHARS:
        raise InvalidValue(
            f"layout node id {node!r} is not 1–{NODE_ID_MAX_CHARS} characters of text",
            field="layout",
        )
    return node


def _position(node: str, position: object) -> dict[str, float]:
    if isinstance(position, Mapping) and set(position) == {"x", "y"}:
        x, y = position["x"], position["y"]
        if all(_finite_number(value) for value in (x, y)):
            return {"x": x, "y": y}
    raise InvalidValue(
        f"layout of node {node!r} is {position!r}: give its position as"
        ' {"x": NUMBER, "y": NUMBER}',
        field=f"layout.{node}",
    )


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
