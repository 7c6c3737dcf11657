"""Name rules for every named resource, written once."""

from __future__ import annotations

import re

from modelyard.entities import limits
from modelyard.errors import InvalidName

_RESOURCE_NAME = re.compile(r"[A-Za-z0-9-]+")
_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _check_resource_name(kind: str, name: str, low: int, high: int, example: str) -> str:
    if (
        not isinstance(name, str)
        or not (low <= len(name) <= high)
        or not _RESOURCE_NAME.fullmatch(name)
    ):
        raise InvalidName(
            f"invalid {kind} name {name!r}: use {low}–{high} letters, digits or hyphens"
            f" (for example {example!r})",
            kind=kind,
            name=name,
        )
    return name


def validate_workspace_name(name: str) -> str:
    return _check_resource_name(
        "workspace", name, limits.WORKSPACE_NAME_MIN, limits.WORKSPACE_NAME_MAX, "my-workspace"
    )


def validate_compute_name(name: str) -> str:
    return _check_resource_name(
        "compute", name, limits.COMPUTE_NAME_MIN, limits.COMPUTE_NAME_MAX, "cpu-cluster"
    )


def validate_experiment_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or len(name) > limits.EXPERIMENT_NAME_MAX
        or not _EXPERIMENT_NAME.fullmatch(name)
    ):
        raise InvalidName(
            f"invalid experiment name {name!r}: use 1–{limits.EXPERIMENT_NAME_MAX} characters that"
            " start with a letter or digit, then letters, digits, '-', '_' or '.'"
            " (for example 'flowers-v2')",
            kind="experiment",
            name=name,
        )
    return name
