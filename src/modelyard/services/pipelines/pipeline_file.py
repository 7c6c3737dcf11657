"""Pipeline YAML (`modelyard job create -f pipeline.yml`), in Azure ML v2's pipeline job shape::

    type: pipeline
    experiment_name: retrain                  # required
    display_name: nightly                     # the pipeline's name (default: the file's stem)
    settings: {default_compute: local, continue_on_step_failure: false, force_rerun: false}
    inputs:
      raw: {type: uri_folder, path: ./data}   # relative to this file
      epochs: 3                               # a literal: string, number, integer, boolean
    outputs:
      model: {type: uri_folder, name: nightly-model}   # name: registered as data, as below
    jobs:
      prep:
        type: command                         # the default; or a built-in job, below
        code: ./src                           # relative to this file (default: its folder)
        command: python prep.py --raw ${{inputs.raw}} --out ${{outputs.clean}}
        environment: {name: env, pip_requirements: requirements.txt}   # optional
        compute: cpu-pool                     # default: settings.default_compute
        inputs: {raw: ${{parent.inputs.raw}}}
        outputs: {clean: {type: uri_folder}}
      train:
        command: >-
          python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}
          --out ${{outputs.model}}
        inputs: {data: ${{parent.jobs.prep.outputs.clean}}, epochs: ${{parent.inputs.epochs}}}
        outputs: {model: ${{parent.outputs.model}}}
        force_rerun: true                     # this step never reuses an earlier run
      classify:                               # a built-in job: what `modelyard train` submits
        type: image_classification
        inputs: {training_data: ${{parent.inputs.raw}}}       # uri_folder, or data:x@latest
        training_parameters: {backbone: resnet18, epochs: 5, learning_rate: 0.01}
        outputs: {model: {type: uri_folder, name: flowers-model}}   # registered as data
      score:                                  # `modelyard batch-score`
        type: batch_score
        inputs: {model: ${{parent.jobs.classify.outputs.model}},    # or model:NAME@latest
                 data: ${{parent.inputs.raw}}}
        mini_batch_size: 16                   # error_threshold too
        outputs: {scores: {type: uri_folder}}
      tables:                                 # `modelyard automl`
        type: automl
        task: classification                  # regression, image_classification
        target_column_name: label
        primary_metric: accuracy
        limits: {timeout_minutes: 10}         # or time_budget_s
        inputs: {training_data: ${{parent.inputs.table}}}     # output: best_model
      tune:                                   # a sweep (`type: sweep` job file's fields)
        type: sweep
        trial: {code: ./src, command: python train.py --lr ${{search_space.lr}}}
        search_space: {lr: {type: uniform, min_value: 0.01, max_value: 0.1}}
        objective: {primary_metric: accuracy, goal: maximize}
        limits: {max_total_trials: 4}                          # output: best_trial
      tune_component:                         # a sweep over a registered component's inputs
        type: sweep
        trial: azureml:train:1                # or azureml:train@latest, train:1
        inputs: {data: ${{parent.inputs.raw}}}                # its inputs not searched
        search_space: {lr: {type: choice, values: [0.01, 0.1]}}   # keys: its inputs
        objective: {primary_metric: accuracy, goal: maximize}
        limits: {max_total_trials: 2}         # best_trial/NAME: the best trial's output NAME
      evaluate:
        component: azureml:evaluate:2         # a registered component (or @latest, or NAME:2)
        inputs: {model: ${{parent.jobs.train.outputs.model}}}

A built-in step's ports are its job's (`entities/pipeline_steps.py`); its fields are judged by
its job's config when the file is read (`services/pipelines/builtin_steps.py`). An output's
`name:` (any step's, or a pipeline output's: then the output of the step bound to it) registers
the output, once its step completes, as a data asset version; `version:` is refused (the
workspace numbers versions).
A step naming a registered `component` takes its command, environment, typed ports and code
(the version's snapshot) from it; a sweep whose `trial` names one runs that component's
command as each trial, its search_space keys being the component's inputs; see
`component_steps.py`.

The graph is judged by `Pipeline.check()` (entities/pipelines.py); every refusal is one line
naming the file, the step and the field. The driver's `pipeline.json` is the same shape with
each step's code in its snapshot, read by the same function.
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource
from modelyard.entities.data import is_data_reference
from modelyard.entities.pipelines import (
    Pipeline,
    PipelineInput,
    PipelineSettings,
    PortType,
    Step,
    StepInput,
    StepType,
    parse_pipeline_inputs,
    parse_pipeline_outputs,
    parse_step_inputs,
    parse_step_outputs,
)
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.environments import Environment
from modelyard.errors import InvalidValue
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.pipelines.builtin_steps import check_settings
from modelyard.services.pipelines.component_steps import (
    ComponentLookup,
    component_step_fields,
    component_trial_fields,
)
from modelyard.services.pipelines.pipeline_job import (
    CONFIG_FILE,
    PIPELINE_TITLE,
    PipelineJob,
    RerunOptions,
)

KNOWN_FIELDS: Final = frozenset(
    {
        "$schema",
        "type",
        "experiment_name",
        "display_name",
        "description",
        "settings",
        "inputs",
        "outputs",
        "jobs",
    }
)
SETTINGS_FIELDS: Final = frozenset({"default_compute", "continue_on_step_failure", "force_rerun"})
BUILTIN_STEP_FIELDS: Final = frozenset(
    {"type", "compute", "inputs", "outputs", "force_rerun", "description"}
)
TRIAL_FIELDS: Final = frozenset({"code", "command", "environment"})
# A component trial's, as recorded (`component_trial_fields`): its folder outputs too.
COMPONENT_TRIAL_FIELDS: Final = TRIAL_FIELDS | {"outputs"}
REQUIRED_EXAMPLES: Final = {
    "task": "'task: classification' (or regression, image_classification)",
    "trial": "'trial: azureml:train:1' (a registered component) or 'trial: {code: ./src,"
    " command: python train.py --lr ${{search_space.lr}}}'",
    "search_space": "'search_space: {lr: {type: uniform, min_value: 0.01, max_value: 0.1}}'",
    "objective": "'objective: {primary_metric: accuracy, goal: maximize}'",
    "model_name": "'model_name: flowers-classifier'",
}
STEP_FIELDS: Final = frozenset(
    {
        "type",
        "code",
        "command",
        "environment",
        "compute",
        "inputs",
        "outputs",
        "force_rerun",
        "description",
        "component",
    }
)


def pipeline_job_from(
    path: Path, data: dict[str, Any], components: ComponentLookup | None = None
) -> PipelineJob:
    """The pipeline a job file's mapping (`type: pipeline`) describes, checked whole;
    `components` finds the registered components its steps name."""
    try:
        pipeline = pipeline_from_dict(
            data, path.absolute().parent, default_name=path.stem, components=components
        )
        pipeline.check()
    except InvalidValue as error:
        context = {**error.context, "path": str(path)}
        raise InvalidValue(f"pipeline file {path}: {error.message}", **context) from None
    return PipelineJob(
        pipeline=pipeline,
        source=RunSource(script=PIPELINE_TITLE, arguments=("-f", str(path))),
    )


def pipeline_from_dict(
    data: Mapping[str, Any],
    base: Path,
    default_name: str = "pipeline",
    components: ComponentLookup | None = None,
) -> Pipeline:
    """A pipeline from its dict form; relative paths (code, data, requirements files) are
    taken from `base`."""
    refuse_unknown_fields("the pipeline", data, KNOWN_FIELDS)
    if not data.get("experiment_name"):
        raise InvalidValue("the pipeline needs 'experiment_name': add it", field="experiment_name")
    jobs = _mapping(data.get("jobs"), "jobs")
    if not jobs:
        raise InvalidValue(
            "the pipeline has no steps: add them under 'jobs', as in 'jobs: {prep: {command:"
            " python prep.py}}'",
            field="jobs",
        )
    inputs = parse_pipeline_inputs(_mapping(data.get("inputs"), "inputs"))
    for name, port in inputs.items():
        if port.type.is_data and not is_data_reference(str(port.value)):
            inputs[name] = PipelineInput(port.type, str((base / str(port.value)).absolute()))
    outputs, output_assets = parse_pipeline_outputs(_mapping(data.get("outputs"), "outputs"))
    return Pipeline(
        name=str(data.get("display_name") or default_name),
        experiment=str(data["experiment_name"]),
        steps={str(name): _step(str(name), spec, base, components) for name, spec in jobs.items()},
        inputs=inputs,
        outputs=outputs,
        settings=_settings(_mapping(data.get("settings"), "settings")),
        output_assets=output_assets,
    )


def read_config(data: bytes, base: Path) -> tuple[Pipeline, RerunOptions]:
    """The pipeline of a driver's `pipeline.json`, its steps' code under `base` (the driver's
    snapshot)."""
    try:
        parsed: dict[str, Any] = json.loads(data)
        pipeline = pipeline_from_dict(parsed["pipeline"], base)
        return pipeline, RerunOptions.from_dict(parsed.get("options") or {})
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"the pipeline's {CONFIG_FILE} is not readable ({error}): submit the pipeline again"
        ) from error


def _step(name: str, spec: object, base: Path, components: ComponentLookup | None) -> Step:
    """A step of any type: a command (or a registered component's, `component_steps.py`), or
    a built-in job (`_builtin_step`; a sweep's trial may be a registered component too)."""
    if not isinstance(spec, Mapping):
        raise InvalidValue(
            f"step {name!r} must be a mapping with a command, as in '{name}: {{command: python"
            " run.py}}'",
            step=name,
        )
    if _step_type(name, spec.get("type")) is StepType.SWEEP:
        spec = component_trial_fields(name, spec, components)
    else:
        spec = component_step_fields(name, spec, components)
    step_type = _step_type(name, spec.get("type"))
    if step_type is StepType.COMMAND:
        return _command_step(name, spec, base)
    return _builtin_step(name, step_type, spec, base)


def _command_step(name: str, spec: Mapping[str, Any], base: Path) -> Step:
    where = f"step {name!r}"
    _refuse_unknown_step_fields(name, spec, STEP_FIELDS)
    if not spec.get("command"):
        raise InvalidValue(
            f"{where} has no command: add 'command: python SCRIPT ARGS…'",
            step=name,
            field="command",
        )
    script, arguments = _command(name, spec["command"])
    return Step(
        name=name,
        command=("python", script, *arguments),
        code=str((base / str(spec.get("code") or ".")).absolute()),
        environment=_environment(name, spec.get("environment"), base),
        compute=_compute(spec.get("compute")),
        inputs=parse_step_inputs(name, _mapping(spec.get("inputs"), f"{where} inputs")),
        outputs=parse_step_outputs(name, _mapping(spec.get("outputs"), f"{where} outputs")),
        force_rerun=_flag(spec.get("force_rerun"), f"{where} force_rerun"),
        component=spec.get("component"),
    )


def _builtin_step(name: str, step_type: StepType, spec: Mapping[str, Any], base: Path) -> Step:
    """A built-in job's step: its own fields (checked by its job's config now, with stand-in
    data), its inputs and outputs checked against its job's ports by `Pipeline.check`."""
    kind = step_type.kind
    assert kind is not None
    where = f"step {name!r} ({step_type.value})"
    # A trial that is a registered component is recorded as its folder and `component`.
    known = BUILTIN_STEP_FIELDS | kind.fields | ({"component"} if kind.runs_code else set())
    _refuse_unknown_step_fields(name, spec, known, where)
    for required in sorted(kind.required_fields):
        if not spec.get(required):
            raise InvalidValue(
                f"{where} needs {required!r}: add it, as in {REQUIRED_EXAMPLES[required]}",
                step=name,
                field=required,
            )
    code, command, environment = ".", tuple[str, ...](), None
    trial_outputs: tuple[str, ...] = ()
    if kind.runs_code:  # a sweep's trial: a command's code, command and environment
        trial = _mapping(spec["trial"], f"{where} trial")
        known_trial = COMPONENT_TRIAL_FIELDS if "component" in spec else TRIAL_FIELDS
        refuse_unknown_fields(f"{where} trial", trial, known_trial)
        script, arguments = _command(name, trial.get("command") or "")
        command = ("python", script, *arguments)
        code = str((base / str(trial.get("code") or ".")).absolute())
        environment = _environment(name, trial.get("environment"), base)
        trial_outputs = tuple(map(str, trial.get("outputs") or ()))
    step = Step(
        name=name,
        command=command,
        code=code,
        type=step_type,
        environment=environment,
        compute=_compute(spec.get("compute")),
        inputs=_typed_data_references(
            parse_step_inputs(name, _mapping(spec.get("inputs"), f"{where} inputs"))
        ),
        outputs=parse_step_outputs(name, _mapping(spec.get("outputs"), f"{where} outputs")),
        force_rerun=_flag(spec.get("force_rerun"), f"{where} force_rerun"),
        # A copy: the step is a value, whatever becomes of the mapping it was read from.
        settings=copy.deepcopy({f: spec[f] for f in sorted(kind.fields - {"trial"}) if f in spec}),
        component=spec.get("component"),
        trial_outputs=trial_outputs,
    )
    check_settings(step, base)
    return step


def _typed_data_references(inputs: dict[str, StepInput]) -> dict[str, StepInput]:
    """A built-in step's input written as a data asset's reference (`data:x@latest`) is
    that version's folder, as `{type: uri_folder, path: data:x@latest}` is."""
    for name, port in inputs.items():
        if port.type is None and is_data_reference(port.binding.literal):
            inputs[name] = StepInput(port.binding, PortType.URI_FOLDER)
    return inputs


def _refuse_unknown_step_fields(
    name: str, spec: Mapping[str, Any], known: frozenset[str], where: str | None = None
) -> None:
    try:
        refuse_unknown_fields(where or f"step {name!r}", spec, known)
    except InvalidValue as error:
        raise InvalidValue(error.message, step=name, **error.context) from None


def _command(step: str, command: object) -> tuple[str, tuple[str, ...]]:
    if isinstance(command, list):  # pipeline.json keeps the words
        command = shlex.join(str(word) for word in command)
    try:
        return command_words(Path(step), command, "command")
    except InvalidValue:
        raise InvalidValue(
            f"step {step!r} has command {command!r}: write it as 'python SCRIPT ARGS…'",
            step=step,
            field="command",
        ) from None


def _step_type(step: str, value: object) -> StepType:
    try:
        return StepType(str(value or "command").strip().lower())
    except ValueError:
        raise InvalidValue(
            f"step {step!r} has type {value!r}: use one of {', '.join(t.value for t in StepType)}",
            step=step,
            field="type",
        ) from None


def _environment(step: str, spec: object, base: Path) -> dict[str, Any] | None:
    """Nothing: the current interpreter; `{name, pip_requirements: FILE}` (the YAML) or an
    environment's recorded form (pipeline.json: the requirements already read)."""
    if spec is None:
        return None
    if isinstance(spec, Mapping) and not isinstance(spec.get("pip_requirements"), str):
        return Environment.from_dict(dict(spec)).to_dict()
    where = Path(f"step {step!r}")
    return environment_from(where, base, spec, "environment").to_dict()


def _compute(value: object) -> str | None:
    """Azure writes `azureml:NAME`; the name is what counts here."""
    return None if value is None else str(value).removeprefix("azureml:")


def _settings(data: Mapping[str, Any]) -> PipelineSettings:
    refuse_unknown_fields("settings", data, SETTINGS_FIELDS)
    return PipelineSettings(
        default_compute=_compute(data.get("default_compute")) or "local",
        continue_on_step_failure=_flag(
            data.get("continue_on_step_failure"), "settings.continue_on_step_failure"
        ),
        force_rerun=_flag(data.get("force_rerun"), "settings.force_rerun"),
    )


def _flag(value: object, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InvalidValue(f"{where} is {value!r}: write true or false", field=where)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{where} is {value!r}: write a mapping of names", field=where)
    return value
