"""The fields a job file and a sweep file's `trial` share: `command` and `environment`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from modelyard.environments import Environment
from modelyard.errors import InvalidValue


def command_words(
    path: Path, command: object, field: str = "command"
) -> tuple[str, tuple[str, ...]]:
    """`python SCRIPT ARGS…` → (SCRIPT, ARGS)."""
    words = shlex.split(str(command))
    if len(words) >= 2 and Path(words[0]).name.startswith("python"):
        return words[1], tuple(words[2:])
    raise InvalidValue(
        f"job file {path} has {field} {command!r}: write it as 'python SCRIPT ARGS…'",
        path=str(path),
    )


def environment_from(path: Path, base: Path, spec: Any, field: str = "environment") -> Environment:
    """Nothing: the current interpreter; `{name, pip_requirements: FILE}`: a venv built from
    FILE (relative to the job file's folder)."""
    if spec is None:
        return Environment.default()
    if not isinstance(spec, dict) or "pip_requirements" not in spec:
        raise InvalidValue(
            f"job file {path}: {field!r} needs 'pip_requirements: FILE' (and optionally 'name')",
            path=str(path),
        )
    name = str(spec.get("name") or "job-env")
    return Environment.from_pip_requirements(name, base / str(spec["pip_requirements"]))
