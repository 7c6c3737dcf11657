"""Pipelines in Python (Azure's `azure.ai.ml.dsl`): components loaded from their YAML and
joined by calling them inside a function decorated with `@pipeline`::

    from modelyard.dsl import Input, load_component, pipeline

    prep = load_component("components/prep.yml")
    train = load_component("components/train.yml")

    @pipeline(experiment_name="retrain", default_compute="local")
    def nightly(raw, scale=2):
        cleaned = prep(raw=raw, scale=scale)
        trained = train(data=cleaned.outputs.clean)
        return {"model": trained.outputs.model}

    run = Experiment(ws, "retrain").submit(nightly(raw=Input(type="uri_folder", path="data")))

A component file is Azure's command component: `name`, `version`, `inputs` (`{type, default}`),
`outputs`, `code`, `command`, `environment`. The function builds the same `Pipeline` a pipeline
file describes (each call a step named after its component, `_2`… for a second call), judged
by the same checks, so the two forms run and are reused alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource
from modelyard.entities.data import is_data_reference
from modelyard.entities.pipelines import (
    Binding,
    Literal,
    Pipeline,
    PipelineInput,
    PipelineSettings,
    PortType,
    Step,
    StepInput,
    StepOutput,
    parse_pipeline_outputs,
)
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue
from modelyard.sdk._published_pipeline import Pipeline as SdkPipeline
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.pipelines.pipeline_job import PIPELINE_TITLE, PipelineJob
from modelyard.services.yaml_file import read_yaml_mapping

COMPONENT_FIELDS: Final = frozenset(
    {
        "$schema",
        "type",
        "name",
        "version",
        "display_name",
        "description",
        "inputs",
        "outputs",
        "code",
        "command",
        "environment",
    }
)


@dataclass(frozen=True)
class Input:
    """A pipeline's data input: `Input(type="uri_folder", path="data")`, or a data asset's
    version, `Input(path="data:flowers@latest")` (pinned when the pipeline is submitted)."""

    path: str
    type: str = "uri_folder"


@dataclass(frozen=True)
class _ParentInput:
    name: str


@dataclass(frozen=True)
class _StepOutput:
    step: str
    name: str


class _Outputs:
    def __init__(self, step: str, names: tuple[str, ...]) -> None:
        self._step = step
        self._names = names

    def __getattr__(self, name: str) -> _StepOutput:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(
                f"step {self._step!r} has no output {name!r}: it has {', '.join(self._names)}"
            )
        return _StepOutput(self._step, name)


@dataclass(frozen=True)
class StepNode:
    """What calling a component inside a `@pipeline` function gives: its outputs to pass on."""

    name: str
    outputs: _Outputs


@dataclass
class _Builder:
    steps: dict[str, Step] = field(default_factory=dict)


_building: list[_Builder] = []


class Component:
    """A command component: a step's code, command, environment and typed ports, versioned."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        where = f"component file {path}"
        refuse_unknown_fields(where, data, COMPONENT_FIELDS)
        if str(data.get("type") or "command") != "command" or not data.get("name"):
            raise InvalidValue(f"{where} needs 'name' and 'type: command': add them")
        base = path.absolute().parent
        self.name = str(data["name"])
        self.version = str(data.get("version") or "1")
        self.inputs = _typed_inputs(where, data.get("inputs") or {})
        self.outputs = parse_pipeline_outputs(data.get("outputs") or {})
        script, arguments = command_words(path, data.get("command") or "", "command")
        self.command = ("python", script, *arguments)
        self.code = str((base / str(data.get("code") or ".")).absolute())
        self.environment = environment_from(path, base, data.get("environment")).to_dict()

    def __call__(self, **inputs: Any) -> StepNode:
        if not _building:
            raise InvalidValue(
                f"component {self.name!r} was called outside a @pipeline function: call it"
                " inside one, which makes it a step"
            )
        builder = _building[-1]
        name = _free_name(self.name, builder.steps)
        unknown = sorted(set(inputs) - set(self.inputs))
        if unknown:
            raise InvalidValue(
                f"component {self.name!r} has no input {unknown[0]!r}: it has"
                f" {', '.join(self.inputs) or 'none'}",
                step=name,
            )
        builder.steps[name] = Step(
            name=name,
            command=self.command,
            code=self.code,
            environment=self.environment,
            inputs=self._ports(name, inputs),
            outputs={output: StepOutput(kind) for output, kind in self.outputs.items()},
        )
        return StepNode(name, _Outputs(name, tuple(self.outputs)))

    def _ports(self, step: str, given: Mapping[str, Any]) -> dict[str, StepInput]:
        ports = {}
        for name, (kind, default) in self.inputs.items():
            if name in given:
                ports[name] = StepInput(_binding(given[name]), kind)
            elif default is not None:
                ports[name] = StepInput(Binding(literal=default), kind)
            else:
                raise InvalidValue(
                    f"step {step!r} (component {self.name!r}) needs input {name!r}: pass it",
                    step=step,
                    field=f"inputs.{name}",
                )
        return ports

    def __repr__(self) -> str:
        return f"Component(name={self.name!r}, version={self.version!r})"


def load_component(path: str | Path) -> Component:
    file = Path(path)
    return Component(file, read_yaml_mapping(file, "component file", "name and command"))


def pipeline(
    experiment_name: str | None = None,
    *,
    name: str | None = None,
    default_compute: str = "local",
    continue_on_step_failure: bool = False,
    force_rerun: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., SdkPipeline]]:
    """Make a function of components a pipeline: calling it with the pipeline's inputs gives a
    `Pipeline` to submit with `Experiment.submit`."""
    settings = PipelineSettings(default_compute, continue_on_step_failure, force_rerun)

    def decorate(function: Callable[..., Any]) -> Callable[..., SdkPipeline]:
        @functools.wraps(function)
        def build(**values: Any) -> SdkPipeline:
            inputs = _pipeline_inputs(function, values)
            builder = _Builder()
            _building.append(builder)
            try:
                returned = function(**{key: _ParentInput(key) for key in inputs})
            finally:
                _building.pop()
            steps, outputs = _bind_outputs(builder.steps, returned or {})
            definition = Pipeline(
                name=name or function.__name__,
                experiment=experiment_name or function.__name__,
                steps=steps,
                inputs=inputs,
                outputs=outputs,
                settings=settings,
            ).check()
            source = RunSource(script=PIPELINE_TITLE, arguments=("dsl", function.__qualname__))
            return SdkPipeline(PipelineJob(definition, source=source))

        return build

    return decorate


def _pipeline_inputs(function: Callable[..., Any], values: Mapping[str, Any]) -> dict[str, Any]:
    inputs: dict[str, PipelineInput] = {}
    for parameter in inspect.signature(function).parameters.values():
        value = values.get(parameter.name, parameter.default)
        if value is inspect.Parameter.empty:
            raise InvalidValue(f"the pipeline needs input {parameter.name!r}: pass it")
        if isinstance(value, Input):
            kind = PortType.parse(value.type, f"pipeline input {parameter.name!r}")
            path = value.path if is_data_reference(value.path) else str(Path(value.path).absolute())
            inputs[parameter.name] = PipelineInput(kind, path)
        else:
            inputs[parameter.name] = PipelineInput(PortType.of_literal(value), value)
    return inputs


def _bind_outputs(
    steps: dict[str, Step], returned: Mapping[str, Any]
) -> tuple[dict[str, Step], dict[str, PortType]]:
    """The function's returned `{name: step.outputs.x}` as the pipeline's outputs."""
    outputs: dict[str, PortType] = {}
    for name, value in returned.items():
        if not isinstance(value, _StepOutput):
            raise InvalidValue(f"pipeline output {name!r} must be a step's output")
        step = steps[value.step]
        port = step.outputs[value.name]
        outputs[name] = port.type
        bound = {**step.outputs, value.name: StepOutput(port.type, parent_output=name)}
        steps[value.step] = replace(step, outputs=bound)
    return steps, outputs


def _binding(value: Any) -> Binding:
    if isinstance(value, _ParentInput):
        return Binding(parent_input=value.name)
    if isinstance(value, _StepOutput):
        return Binding(step=value.step, output=value.name)
    if isinstance(value, str | int | float | bool):
        return Binding(literal=value)
    raise InvalidValue(
        f"a step input is {value!r}: pass a pipeline input, a step's output or a value"
    )


PortSpec = tuple[PortType, Literal | None]  # a component input's type and default


def _typed_inputs(where: str, data: Mapping[str, Any]) -> dict[str, PortSpec]:
    found: dict[str, PortSpec] = {}
    for name, spec in data.items():
        spec = spec if isinstance(spec, Mapping) else {"type": spec}
        kind = PortType.parse(spec.get("type", "uri_folder"), f"{where} input {name!r}")
        found[str(name)] = (kind, spec.get("default"))
    return found


def _free_name(name: str, taken: Mapping[str, object]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"
