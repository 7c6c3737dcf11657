"""The designer's palette: what can be dragged onto the canvas and how ports connect.

Every step type is read from the one table of built-in kinds (`BUILTIN_STEP_KINDS`), so a kind
added there is offered here unchanged; the port types and which feeds which come from
`PortType.accepts`, the rule `Pipeline.check()` judges connections by, so the canvas never
allows a connection the server refuses. Components are each one's latest version not archived.
A built-in kind that runs code (a sweep) takes it from a registered component: its field of
kind `component` (a sweep's `trial`) is picked from `components`, as a browser sends no folder.
"""

from __future__ import annotations

from typing import Any, Final

from modelyard.entities.compute import LOCAL
from modelyard.entities.pipeline_steps import (
    BUILTIN_STEP_KINDS,
    STEP_DESCRIPTIONS,
    STEP_FIELD_INFO,
    FieldInfo,
    PortType,
    StepKind,
)
from modelyard.services import components, computes, data
from modelyard.services.workspaces import OpenWorkspace

COMMAND: Final = "command"
COMMON_FIELDS: Final = ("compute", "force_rerun", "description")
COMMAND_FIELDS: Final = ("component", "command", "code", "environment")


def palette(ws: OpenWorkspace) -> dict[str, Any]:
    return {
        "step_types": step_types(),
        "port_types": port_types(),
        "components": component_entries(ws),
        "computes": compute_names(ws),
        "data_assets": data_asset_entries(ws),
    }


def step_types() -> list[dict[str, Any]]:
    """A command (its ports are its component's or its own), then each built-in kind."""
    command = {
        "type": COMMAND,
        "title": "command",
        "description": STEP_DESCRIPTIONS.get(COMMAND, ""),
        "inputs": [],
        "outputs": [],
        "runs_code": True,
        "fields": [_field(name, name == "command") for name in (*COMMAND_FIELDS, *COMMON_FIELDS)],
    }
    return [command, *(_builtin(name, kind) for name, kind in BUILTIN_STEP_KINDS.items())]


def _builtin(name: str, kind: StepKind) -> dict[str, Any]:
    return {
        "type": name,
        "title": kind.title,
        "description": STEP_DESCRIPTIONS.get(name, kind.title),
        "inputs": [
            {"name": port, "types": sorted(t.value for t in spec.types), "required": spec.required}
            for port, spec in kind.inputs.items()
        ],
        "outputs": [
            {"name": port, "type": kind_type.value} for port, kind_type in kind.outputs.items()
        ],
        "runs_code": kind.runs_code,
        "fields": [
            *(_field(field, field in kind.required_fields) for field in sorted(kind.fields)),
            *(_field(field, False) for field in COMMON_FIELDS if field not in kind.fields),
        ],
    }


def _field(name: str, required: bool) -> dict[str, Any]:
    info = STEP_FIELD_INFO.get(name, FieldInfo("string", ""))
    return {
        "name": name,
        "required": required,
        "kind": info.kind,
        "default": info.default,
        "description": info.description,
    }


def port_types() -> list[dict[str, Any]]:
    return [
        {
            "type": port.value,
            "is_data": port.is_data,
            "accepts": [source.value for source in PortType if port.accepts(source)],
        }
        for port in PortType
    ]


def component_entries(ws: OpenWorkspace) -> list[dict[str, Any]]:
    entries = []
    for component in components.list_components(ws):
        if component.latest_version is None:  # every version archived
            continue
        version = components.get_component_version(ws, component.name)
        spec = version.spec
        entries.append(
            {
                "name": component.name,
                "version": version.version,
                "description": spec.description or spec.display_name or "",
                "inputs": [
                    {"name": n, "type": i.type.value, "optional": i.optional, "default": i.default}
                    for n, i in spec.inputs.items()
                ],
                "outputs": [{"name": n, "type": t.value} for n, t in spec.outputs.items()],
            }
        )
    return entries


def compute_names(ws: OpenWorkspace) -> list[str]:
    """`local` first (every workspace has it), then the others by name."""
    names = {compute.name for compute in computes.list_computes(ws)} - {LOCAL}
    return [LOCAL, *sorted(names)]


def data_asset_entries(ws: OpenWorkspace) -> list[dict[str, Any]]:
    return [
        {
            "name": asset.name,
            "latest_version": asset.latest_version,
            "type": None if asset.latest_type is None else asset.latest_type.value,
        }
        for asset in data.list_assets(ws)
        if asset.latest_version is not None
    ]
