"""Job YAML (`modelyard job create -f job.yml`), the file form of `modelyard job submit`.

experiment_name: flowers          # required
code: ./src                       # source folder, relative to this file (default: its folder)
command: python train.py --lr 0.1 # or: script: train.py + arguments: [--lr, 0.1]
compute: local                    # default: local
environment:                      # default: the current interpreter
  name: train-env
  pip_requirements: requirements.txt   # relative to this file
display_name: first-try           # optional
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from modelyard.environments import Environment
from modelyard.errors import InvalidValue
from modelyard.services.jobs import ScriptJob
from modelyard.services.yaml_file import read_yaml_mapping

KNOWN_FIELDS = {
    "$schema",
    "experiment_name",
    "experiment",
    "code",
    "command",
    "script",
    "arguments",
    "compute",
    "environment",
    "display_name",
}


def load_job_file(path: Path) -> ScriptJob:
    data = _read_mapping(path)
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidValue(
            f"job file {path} has unknown field {unknown[0]!r}: use one of"
            f" {', '.join(sorted(KNOWN_FIELDS))}",
            field=unknown[0],
        )
    base = path.absolute().parent
    script, arguments = _script_and_arguments(path, data)
    return ScriptJob(
        experiment=_required(path, data, "experiment_name", "experiment"),
        source_directory=(base / str(data.get("code", "."))).absolute(),
        script=script,
        arguments=arguments,
        compute_target=str(data.get("compute", "local")),
        environment=_environment(path, base, data.get("environment")),
        display_name=data.get("display_name"),
    )


def _read_mapping(path: Path) -> dict[str, Any]:
    return read_yaml_mapping(path, "job file", "experiment_name, code and command")


def _required(path: Path, data: dict[str, Any], *names: str) -> str:
    for name in names:
        if data.get(name):
            return str(data[name])
    raise InvalidValue(
        f"job file {path} needs {names[0]!r}: add it", path=str(path), field=names[0]
    )


def _script_and_arguments(path: Path, data: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    if "command" in data:
        words = shlex.split(str(data["command"]))
        if len(words) >= 2 and Path(words[0]).name.startswith("python"):
            return words[1], tuple(words[2:])
        raise InvalidValue(
            f"job file {path} has command {data['command']!r}: write it as 'python SCRIPT ARGS…'",
            path=str(path),
        )
    script = _required(path, data, "script")
    arguments = data.get("arguments") or []
    if not isinstance(arguments, list):
        raise InvalidValue(f"job file {path}: 'arguments' must be a list", path=str(path))
    return script, tuple(str(argument) for argument in arguments)


def _environment(path: Path, base: Path, spec: Any) -> Environment:
    if spec is None:
        return Environment.default()
    if not isinstance(spec, dict) or "pip_requirements" not in spec:
        raise InvalidValue(
            f"job file {path}: 'environment' needs 'pip_requirements: FILE'"
            " (and optionally 'name')",
            path=str(path),
        )
    name = str(spec.get("name") or "job-env")
    return Environment.from_pip_requirements(name, base / str(spec["pip_requirements"]))
