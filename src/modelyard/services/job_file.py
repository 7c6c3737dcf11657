"""Job YAML (`modelyard job create -f job.yml`), the file form of `modelyard job submit`.

experiment_name: flowers          # required
code: ./src                       # source folder, relative to this file (default: its folder)
command: python train.py --lr 0.1 # or: script: train.py + arguments: [--lr, 0.1]
type: command                     # default; `type: sweep`: a sweep (sweeps/sweep_file.py)
compute: local                    # default: local
environment:                      # default: the current interpreter
  name: train-env
  pip_requirements: requirements.txt   # relative to this file
display_name: first-try           # optional
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.entities import Run
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.jobs import ScriptJob, submit
from modelyard.services.sweeps.submission import submit_sweep
from modelyard.services.sweeps.sweep_file import sweep_job_from
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.workspaces import OpenWorkspace
from modelyard.services.yaml_file import read_yaml_mapping

KNOWN_FIELDS = {
    "$schema",
    "type",
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
JOB_TYPES = ("command", "sweep")


def load_job_file(path: Path) -> ScriptJob | SweepJob:
    """A command job (`type: command`, the default) or a sweep (`type: sweep`, see
    services/sweeps/sweep_file.py), as Azure's `az ml job create -f` takes them."""
    data = _read_mapping(path)
    kind = str(data.get("type") or "command").strip().lower()
    if kind == "sweep":
        return sweep_job_from(path, data)
    if kind != "command":
        raise InvalidValue(
            f"job file {path} has type {data['type']!r}: use one of {', '.join(JOB_TYPES)}",
            path=str(path),
            type=str(data["type"]),
        )
    refuse_unknown_fields(f"job file {path}", data, KNOWN_FIELDS)
    base = path.absolute().parent
    script, arguments = _script_and_arguments(path, data)
    return ScriptJob(
        experiment=_required(path, data, "experiment_name", "experiment"),
        source_directory=(base / str(data.get("code", "."))).absolute(),
        script=script,
        arguments=arguments,
        compute_target=str(data.get("compute", "local")),
        environment=environment_from(path, base, data.get("environment")),
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
        return command_words(path, data["command"])
    script = _required(path, data, "script")
    arguments = data.get("arguments") or []
    if not isinstance(arguments, list):
        raise InvalidValue(f"job file {path}: 'arguments' must be a list", path=str(path))
    return script, tuple(str(argument) for argument in arguments)


def submit_job_file(ws: OpenWorkspace, path: Path, user: str | None = None) -> Run:
    """Load and submit a job file, whatever its type: what a schedule fires."""
    job = load_job_file(path)
    if isinstance(job, SweepJob):
        return submit_sweep(ws, job, user=user)
    return submit(ws, job, user=user)
