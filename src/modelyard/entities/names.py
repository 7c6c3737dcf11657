"""Name rules for every named resource, written once."""

from __future__ import annotations

import re

from modelyard.entities import limits
from modelyard.errors import InvalidName

# Never a leading hyphen: `modelyard compute delete -x` would read the name as an option.
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# Azure's rule for online endpoints and deployments: a letter first, a letter or digit last.
_ENDPOINT_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# User names may be e-mail addresses, the name most teams already know each other by.
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def _check_resource_name(
    kind: str,
    name: str,
    low: int,
    high: int,
    example: str,
    pattern: re.Pattern[str] = _RESOURCE_NAME,
    rule: str = "not starting with a hyphen",
) -> str:
    if not isinstance(name, str) or not (low <= len(name) <= high) or not pattern.fullmatch(name):
        raise InvalidName(
            f"invalid {kind} name {name!r}: use {low}–{high} letters, digits or hyphens,"
            f" {rule} (for example {example!r})",
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
    return _check_label(
        "experiment",
        name,
        _EXPERIMENT_NAME,
        limits.EXPERIMENT_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="flowers-v2",
    )


def validate_user_name(name: str) -> str:
    return _check_label(
        "user",
        name,
        _USER_NAME,
        limits.USER_NAME_MAX,
        allowed="'-', '_', '.' or '@'",
        example="ana@example.com",
    )


def validate_token_name(name: str) -> str:
    return _check_label(
        "token",
        name,
        _EXPERIMENT_NAME,
        limits.TOKEN_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="ci-nightly",
    )


def validate_model_name(name: str) -> str:
    """Letters, digits, '-', '_' and '.': never ':' or '@', which a model reference uses to
    name a version (`NAME:3`) or an alias (`NAME@champion`)."""
    return _check_label(
        "model",
        name,
        _EXPERIMENT_NAME,
        limits.MODEL_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="flowers-classifier",
    )


def validate_data_name(name: str) -> str:
    """A data asset's name, by the model names' rule: a reference uses ':' and '@' to name a
    version (`data:flowers:3`, `data:flowers@latest`)."""
    return _check_label(
        "data asset",
        name,
        _EXPERIMENT_NAME,
        limits.DATA_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="flowers",
    )


def validate_component_name(name: str) -> str:
    """A component's name, by the data assets' rule: a reference uses ':' and '@' to name a
    version (`azureml:train:2`, `azureml:train@latest`)."""
    return _check_label(
        "component",
        name,
        _EXPERIMENT_NAME,
        limits.COMPONENT_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="train",
    )


def _check_label(
    kind: str, name: str, pattern: re.Pattern[str], high: int, *, allowed: str, example: str
) -> str:
    if not isinstance(name, str) or len(name) > high or not pattern.fullmatch(name):
        raise InvalidName(
            f"invalid {kind} name {name!r}: use 1–{high} characters that start with a letter or"
            f" digit, then letters, digits, {allowed} (for example {example!r})",
            kind=kind,
            name=name,
        )
    return name


def validate_endpoint_name(name: str) -> str:
    return _check_resource_name(
        "endpoint", name, 3, 32, "flowers-api", _ENDPOINT_NAME, _ENDPOINT_RULE
    )


def validate_deployment_name(name: str) -> str:
    return _check_resource_name("deployment", name, 3, 32, "blue", _ENDPOINT_NAME, _ENDPOINT_RULE)


_ENDPOINT_RULE = "starting with a letter and ending with a letter or digit"


def validate_schedule_name(name: str) -> str:
    return _check_resource_name("schedule", name, 1, 64, "nightly")


# A job's or a pipeline step's input name (`${{inputs.NAME}}`), as a run records it (255 max).
INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def validate_published_pipeline_name(name: str) -> str:
    """By the model names' rule: `NAME:VERSION` names a version."""
    return _check_label(
        "published pipeline",
        name,
        _EXPERIMENT_NAME,
        limits.PUBLISHED_PIPELINE_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="nightly-retrain",
    )


def validate_pipeline_draft_name(name: str) -> str:
    """A designer's draft: by the published pipelines' rule, so a draft publishes as itself."""
    return _check_label(
        "pipeline draft",
        name,
        _EXPERIMENT_NAME,
        limits.PUBLISHED_PIPELINE_NAME_MAX,
        allowed="'-', '_' or '.'",
        example="nightly-retrain",
    )
