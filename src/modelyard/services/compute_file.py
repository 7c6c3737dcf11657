"""Compute YAML (`modelyard compute create -f compute.yml`), in Azure ML v2's shape::

    $schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json  # optional
    name: gpu-pool                    # required (or NAME on the command line)
    type: local                       # local | ray; Azure's `amlcompute` means local
    size: Standard_NC12               # default: Standard_DS1_v2
    tier: low_priority                # dedicated (default) | low_priority
    min_instances: 0
    max_instances: 2
    idle_time_before_scale_down: 1800 # seconds
    address: http://10.0.0.5:8265     # ray only: the cluster's dashboard
    description: two GPUs for the vision team

The file only says what is asked for: `ComputeRequest.check()` judges it, as it judges the
command line's flags, so both spellings are refused with the same words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.entities.compute import ComputeRequest, ComputeType, Priority
from modelyard.errors import InvalidValue
from modelyard.services.yaml_file import read_yaml_mapping

# Azure's own name for its managed clusters; here they are processes on this host.
_TYPE_ALIASES = {"amlcompute": ComputeType.LOCAL.value}
_INTEGER_FIELDS = {
    "min_instances": "min_nodes",
    "max_instances": "max_nodes",
    "idle_time_before_scale_down": "idle_seconds_before_scaledown",
}
_TEXT_FIELDS = {"size": "size", "address": "address", "description": "description"}
KNOWN_FIELDS = frozenset({"$schema", "name", "type", "tier", *_INTEGER_FIELDS, *_TEXT_FIELDS})


def load_compute_file(path: Path, name: str | None = None) -> ComputeRequest:
    """The request the file describes; `name` (the command line's NAME) overrides its `name`."""
    data = _read_mapping(path)
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidValue(
            f"compute file {path} has unknown field {unknown[0]!r}: use only"
            f" {', '.join(sorted(KNOWN_FIELDS))}",
            path=str(path),
            field=unknown[0],
        )
    fields: dict[str, Any] = {"name": name or _required_name(path, data)}
    if "type" in data:
        kind = _text(path, data, "type")
        fields["type"] = ComputeType.parse(_TYPE_ALIASES.get(kind.strip().lower(), kind))
    if "tier" in data:
        fields["priority"] = Priority.parse(_text(path, data, "tier"))
    for key, attribute in _INTEGER_FIELDS.items():
        if data.get(key) is not None:
            fields[attribute] = _integer(path, data, key)
    for key, attribute in _TEXT_FIELDS.items():
        if data.get(key) is not None:
            fields[attribute] = _text(path, data, key)
    return ComputeRequest(**fields)


def _read_mapping(path: Path) -> dict[str, Any]:
    return read_yaml_mapping(path, "compute file", "name, type and size")


def _required_name(path: Path, data: dict[str, Any]) -> str:
    if data.get("name") in (None, ""):
        raise InvalidValue(
            f"compute file {path} needs 'name': add it, or give NAME on the command line",
            path=str(path),
            field="name",
        )
    return _text(path, data, "name")


def _text(path: Path, data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidValue(
            f"compute file {path}: {key!r} must be a single value, not {value!r}",
            path=str(path),
            field=key,
        )
    return str(value)


def _integer(path: Path, data: dict[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(
            f"compute file {path}: {key!r} must be a whole number, not {value!r}",
            path=str(path),
            field=key,
        )
    return value
