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
from typing import Any

from modelyard.entities import RunSource
from modelyard.entities.components import ComponentInput, ComponentSpec, ComponentVersion
from modelyard.entities.data import is_data_reference
from modelyard.entities.pipelines import (
    Binding,
    Pipeline,
    PipelineInput,
    PipelineSettings,
    PortType,
    Step,
    StepInput,
    StepOutput,
)
from modelyard.environments import Environment
from modelyard.errors import InvalidValue
from modelyard.sdk._pipeline import Pipeline as SdkPipeline
from modelyard.services.component_file import load_component_file
from modelyard.services.pipelines.pipeline_job import PIPELINE_TITLE, PipelineJob


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
    """A command component: a step's code, command, environment and typed ports; from its
    file (`load_component`) or registered in a workspace (`ws.components.get`)."""

    def __init__(
        self,
        spec: ComponentSpec,
        code: Path,
        source: Path | None = None,
        registered: ComponentVersion | None = None,
    ) -> None:
        self.spec = spec
        self.code = code
        self.source = source  # the component file, when loaded from one
        self.registered = registered  # the workspace's version, when it is one
        self.created = False  # after `create_or_update`: whether a new version was made

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str | None:
        if self.registered is not None:
            return str(self.registered.version)
        return None if self.spec.version is None else str(self.spec.version)

    @property
    def id(self) -> str | None:
        """`azureml:NAME:VERSION` once registered, what a pipeline step names."""
        return None if self.registered is None else self.registered.reference

    @property
    def inputs(self) -> Mapping[str, ComponentInput]:
        return self.spec.inputs

    @property
    def outputs(self) -> Mapping[str, PortType]:
        return self.spec.outputs

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
            command=self.spec.command,
            code=str(self.code),
            environment=self._environment(),
            inputs=self._ports(name, inputs),
            outputs={output: StepOutput(kind) for output, kind in self.outputs.items()},
            component=self.id,
        )
        return StepNode(name, _Outputs(name, tuple(self.outputs)))

    def _environment(self) -> dict[str, Any]:
        spec = self.spec.environment
        return Environment.default().to_dict() if spec is None else dict(spec)

    def _ports(self, step: str, given: Mapping[str, Any]) -> dict[str, StepInput]:
        ports = {}
        for name, port in self.inputs.items():
            if name in given:
                ports[name] = StepInput(_binding(given[name]), port.type)
            elif port.default is not None:
                ports[name] = StepInput(Binding(literal=port.default), port.type)
            elif not port.optional:
                raise InvalidValue(
                    f"step {step!r} (component {self.name!r}) needs input {name!r}: pass it",
                    step=step,
                    field=f"inputs.{name}",
                )
        return ports

    def __repr__(self) -> str:
        return f"Component(name={self.name!r}, version={self.version!r})"


def load_component(path: str | Path) -> Component:
    """A component from its YAML file (services/component_file.py); register it with
    `ws.components.create_or_update(component)`."""
    loaded = load_component_file(path)
    return Component(loaded.spec, loaded.code, source=Path(path))


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


def _free_name(name: str, taken: Mapping[str, object]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"
