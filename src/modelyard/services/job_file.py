"""Job YAML (`modelyard job create -f job.yml`), the file form of `modelyard job submit`.

experiment_name: flowers          # required
code: ./src                       # source folder, relative to this file (default: its folder)
command: python train.py --lr 0.1 # or: script: train.py + arguments: [--lr, 0.1]
type: command                     # default; `type: sweep`: a sweep (sweeps/sweep_file.py);
                                  # `type: pipeline`: a pipeline (pipelines/pipeline_file.py)
compute: local                    # default: local
environment:                      # default: the current interpreter
  name: train-env
  pip_requirements: requirements.txt   # relative to this file
display_name: first-try           # optional
inputs:                           # optional, Azure v2's: ${{inputs.NAME}} in the command
  training_data:                  # a data asset version (data:NAME:3, azureml:NAME@latest)…
    type: uri_folder
    path: data:flowers@latest
  images: {type: uri_folder, path: ./images}   # …a local folder (relative to this file)…
  epochs: 10                      # …or a literal value
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.entities import Run
from modelyard.entities.data import is_data_reference
from modelyard.entities.names import INPUT_NAME
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue
from modelyard.services import components
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.job_inputs import InputValue, check_placeholders
from modelyard.services.jobs import Job, ScriptJob, submit
from modelyard.services.pipelines.pipeline_file import pipeline_job_from
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.submission import pipeline_driver_job
from modelyard.services.sweeps.submission import sweep_driver_job
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
    "inputs",
}
JOB_TYPES = ("command", "sweep", "pipeline")


def load_job_file(
    path: Path, ws: OpenWorkspace | None = None
) -> ScriptJob | SweepJob | PipelineJob:
    """A command job (`type: command`, the default), a sweep (`type: sweep`, see
    services/sweeps/sweep_file.py) or a pipeline (`type: pipeline`, see
    services/pipelines/pipeline_file.py), as Azure's `az ml job create -f` takes them; a
    pipeline's steps find the components they name in `ws`."""
    data = _read_mapping(path)
    kind = str(data.get("type") or "command").strip().lower()
    if kind == "sweep":
        return sweep_job_from(path, data)
    if kind == "pipeline":
        lookup = None if ws is None else components.step_component_lookup(ws)
        return pipeline_job_from(path, data, lookup)
    if kind != "command":
        raise InvalidValue(
            f"job file {path} has type {data['type']!r}: use one of {', '.join(JOB_TYPES)}",
            path=str(path),
            type=str(data["type"]),
        )
    refuse_unknown_fields(f"job file {path}", data, KNOWN_FIELDS)
    base = path.absolute().parent
    script, arguments = _script_and_arguments(path, data)
    inputs = inputs_from(path, base, data.get("inputs"))
    check_placeholders(arguments, set(inputs), f"job file {path}")
    return ScriptJob(
        experiment=_required(path, data, "experiment_name", "experiment"),
        source_directory=(base / str(data.get("code", "."))).absolute(),
        script=script,
        arguments=arguments,
        compute_target=str(data.get("compute", "local")),
        environment=environment_from(path, base, data.get("environment")),
        display_name=data.get("display_name"),
        inputs=inputs,
    )


_PATH_TYPES = ("uri_folder", "uri_file")


def inputs_from(path: Path, base: Path, spec: Any) -> dict[str, InputValue]:
    """`inputs:` → name → a data reference (text), a local path (relative to the job file)
    or a literal (text)."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise InvalidValue(f"job file {path}: 'inputs' must be a mapping of names", path=str(path))
    inputs: dict[str, InputValue] = {}
    for name, value in spec.items():
        if not INPUT_NAME.fullmatch(str(name)):
            raise InvalidValue(
                f"job file {path}: input name {name!r} must be letters, digits and '_',"
                " not starting with a digit (like training_data)",
                path=str(path),
            )
        inputs[str(name)] = _input_value(path, base, str(name), value)
    return inputs


def _input_value(path: Path, base: Path, name: str, value: Any) -> InputValue:
    if not isinstance(value, dict):
        return _literal(value)
    kind = str(value.get("type") or "uri_folder")
    if kind not in _PATH_TYPES:
        return _literal(value.get("default", value.get("value")))
    location = value.get("path")
    if not isinstance(location, str) or not location:
        raise InvalidValue(
            f"job file {path}: input {name!r} of type {kind} needs 'path:' (a data reference"
            " like data:flowers@latest, or a local path)",
            path=str(path),
        )
    return location.strip() if is_data_reference(location) else (base / location).absolute()


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


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
    return submit(ws, queued_job_of(ws, load_job_file(path, ws)), user=user)


def queued_job_of(
    ws: OpenWorkspace, job: ScriptJob | SweepJob | PipelineJob, keep_latest: bool = False
) -> Job:
    """What `jobs.submit` queues for a job file's job: a sweep's or pipeline's driver.
    `keep_latest`: a pipeline's `@latest` data inputs stay so (`pipeline_driver_job`)."""
    if isinstance(job, SweepJob):
        return sweep_driver_job(ws, job)
    if isinstance(job, PipelineJob):
        return pipeline_driver_job(ws, job, keep_latest=keep_latest)
    return job
