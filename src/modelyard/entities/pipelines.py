"""A pipeline, as Azure ML v2's pipeline job describes one: steps (`jobs.<name>`) joined by
typed ports, and the key that decides whether a step's earlier run can stand for it.

`Pipeline.check()` judges the graph as a whole before anything is created: every binding
names an input, a step or an output that exists (with the closest name when not), the ports it
joins have compatible types, every `${{inputs.x}}`/`${{outputs.y}}` of a command is declared,
and the steps form no cycle (named when they do). A step's input is bound to one of
`${{parent.inputs.x}}`, `${{parent.jobs.prep.outputs.out}}` or a literal; its outputs are
folders it writes (`${{outputs.out}}` in its command), which its dependants read.

`ReuseKey` is what a step's run depends on: its code snapshot's content hash, its environment
spec's hash, its parameters (the command and the literal inputs) and the content hash of each
data input. An earlier completed run with the same key produced what this one would;
`describe_change` says which part moved when it did not.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from modelyard.entities.data import is_data_reference
from modelyard.entities.names import validate_data_name
from modelyard.entities.pipeline_steps import BUILTIN_STEP_KINDS, StepKind
from modelyard.entities.pipeline_steps import PortType as PortType  # its home before
from modelyard.errors import InvalidValue

# `${{parent.inputs.x}}`, `${{parent.jobs.prep.outputs.out}}`, `${{inputs.x}}`, `${{outputs.y}}`.
_REFERENCE: Final = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_WHOLE_REFERENCE: Final = re.compile(r"^\s*\$\{\{\s*([^}]*?)\s*\}\}\s*$")
_PORT_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class StepType(StrEnum):
    """A step's kind: a user's command, or a built-in job (`pipeline_steps.BUILTIN_STEP_KINDS`)."""

    COMMAND = "command"
    IMAGE_CLASSIFICATION = "image_classification"
    AUTOML = "automl"
    SWEEP = "sweep"
    BATCH_SCORE = "batch_score"
    SPLIT = "split"
    EVALUATE = "evaluate"
    REGISTER_MODEL = "register_model"

    @property
    def kind(self) -> StepKind | None:
        """A built-in job's ports and fields; None for a command (it declares its own)."""
        return BUILTIN_STEP_KINDS.get(self.value)

    @property
    def runs_code(self) -> bool:
        """Whether the step has a `code` folder and a command (a command, a sweep's trial)."""
        return self.kind is None or self.kind.runs_code


RUNNABLE_STEP_TYPES: Final = frozenset(StepType)

Literal = str | int | float | bool


@dataclass(frozen=True)
class PipelineInput:
    """One of the pipeline's inputs: data (a path) or a literal value."""

    type: PortType
    value: Literal  # a data input's path, or the literal

    def to_dict(self) -> dict[str, Any]:
        key = "path" if self.type.is_data else "default"
        return {"type": self.type.value, key: self.value}


@dataclass(frozen=True)
class Binding:
    """Where a step's input comes from: exactly one of a parent input, a step's output or a
    literal value."""

    parent_input: str | None = None
    step: str | None = None
    output: str | None = None
    literal: Literal | None = None

    @classmethod
    def parse(cls, value: object) -> Binding:
        if not isinstance(value, str):
            return cls(literal=_literal(value))
        match = _WHOLE_REFERENCE.match(value)
        if match is None:
            return cls(literal=value)
        parts = match.group(1).split(".")
        if len(parts) == 3 and parts[:2] == ["parent", "inputs"]:
            return cls(parent_input=parts[2])
        if len(parts) == 5 and parts[:2] == ["parent", "jobs"] and parts[3] == "outputs":
            return cls(step=parts[2], output=parts[4])
        raise InvalidValue(
            f"binding {value!r} is not one of ${{{{parent.inputs.NAME}}}},"
            " ${{parent.jobs.STEP.outputs.NAME}} or a literal value",
            binding=value,
        )

    def to_text(self) -> Literal:
        if self.parent_input is not None:
            return f"${{{{parent.inputs.{self.parent_input}}}}}"
        if self.step is not None:
            return f"${{{{parent.jobs.{self.step}.outputs.{self.output}}}}}"
        assert self.literal is not None
        return self.literal


@dataclass(frozen=True)
class StepInput:
    binding: Binding
    type: PortType | None = None  # declared (`{type: …, path: …}`); else the source's

    def to_dict(self) -> Any:
        if self.type is None:
            return self.binding.to_text()
        key = "path" if self.type.is_data else "value"
        return {"type": self.type.value, key: self.binding.to_text()}


@dataclass(frozen=True)
class StepOutput:
    type: PortType = PortType.URI_FOLDER
    parent_output: str | None = None  # `${{parent.outputs.NAME}}`: the pipeline's output
    # Azure's `name` of an output: the data asset its content is registered as once the step
    # completes. (Azure's `version` is refused: the store numbers versions, the next one or
    # the existing one whose content is the same: `refuse_output_version`.)
    asset_name: str | None = None

    def to_dict(self) -> Any:
        data: dict[str, Any] = {"type": self.type.value}
        if self.parent_output is not None:
            data["path"] = f"${{{{parent.outputs.{self.parent_output}}}}}"
        if self.asset_name is not None:
            data["name"] = self.asset_name
        return data


@dataclass(frozen=True)
class Step:
    name: str
    command: tuple[str, ...]  # `python SCRIPT ARGS…`, split into words, references unrendered
    code: str = "."  # the step's source folder
    type: StepType = StepType.COMMAND
    environment: Mapping[str, Any] | None = None  # an environment spec's dict form
    compute: str | None = None  # None: the pipeline's default_compute
    inputs: Mapping[str, StepInput] = field(default_factory=dict)
    outputs: Mapping[str, StepOutput] = field(default_factory=dict)
    force_rerun: bool = False
    component: str | None = None  # the registered component it runs: azureml:NAME:VERSION
    # A sweep's component trial's folder outputs (`outputs/NAME` in its command), made in each
    # trial's `outputs/` before it runs, as a command step's are.
    trial_outputs: tuple[str, ...] = ()
    # A built-in step's own fields as the YAML gives them (`training_parameters`, `task`,
    # `search_space`…), judged by its job's config when the step is submitted.
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def script(self) -> str:
        """The script a command runs; a built-in job's title."""
        if self.type.runs_code:
            return self.command[1]
        kind = self.type.kind
        assert kind is not None
        return kind.title

    def output_ports(self) -> dict[str, StepOutput]:
        """Every output: a built-in job's fixed ones, with what the step declares of them."""
        kind = self.type.kind
        if kind is None:
            return dict(self.outputs)
        return {
            name: self.outputs.get(name, StepOutput(kind_type))
            for name, kind_type in kind.outputs.items()
        }

    def upstream(self) -> set[str]:
        return {i.binding.step for i in self.inputs.values() if i.binding.step is not None}

    def references(self) -> Iterable[tuple[str, str]]:
        """Each `(kind, name)` of `${{inputs.name}}`/`${{outputs.name}}` in the command (a
        sweep's trial also names `${{search_space.x}}`, which its sweep fills in)."""
        return command_references(self.command, skip=self._filled_in_kinds())

    def _filled_in_kinds(self) -> frozenset[str]:
        return frozenset({"search_space"}) if self.type is StepType.SWEEP else frozenset()

    def render(self, values: Mapping[str, str], outputs: Mapping[str, str]) -> tuple[str, ...]:
        """The script's arguments with each reference replaced (one word stays one)."""

        def value_of(match: re.Match[str]) -> str:
            kind, _, name = match.group(1).partition(".")
            if kind == "search_space":
                return match.group(0)
            return (values if kind == "inputs" else outputs)[name]

        return tuple(_REFERENCE.sub(value_of, word) for word in self.command[2:])

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type.value,
            "inputs": {name: port.to_dict() for name, port in self.inputs.items()},
            "outputs": {name: port.to_dict() for name, port in self.outputs.items()},
            **self.settings,
        }
        if self.type.runs_code:
            code: dict[str, Any] = {"code": self.code, "command": list(self.command)}
            if self.type is StepType.SWEEP:  # Azure's sweep node: the trial's own mapping
                outputs = {"outputs": list(self.trial_outputs)} if self.trial_outputs else {}
                code = {"trial": {**code, **self._environment_dict(), **outputs}}
            data.update(code)
        if self.type is not StepType.SWEEP:
            data.update(self._environment_dict())
        if self.compute is not None:
            data["compute"] = self.compute
        if self.force_rerun:
            data["force_rerun"] = True
        if self.component is not None:
            data["component"] = self.component
        return data

    def _environment_dict(self) -> dict[str, Any]:
        return {} if self.environment is None else {"environment": dict(self.environment)}


@dataclass(frozen=True)
class PipelineSettings:
    default_compute: str = "local"
    continue_on_step_failure: bool = False
    force_rerun: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "default_compute": self.default_compute,
            "continue_on_step_failure": self.continue_on_step_failure,
            "force_rerun": self.force_rerun,
        }


@dataclass(frozen=True)
class Pipeline:
    """Named (its display name: its earlier runs are its history) steps, inputs and outputs."""

    name: str
    experiment: str
    steps: Mapping[str, Step]
    inputs: Mapping[str, PipelineInput] = field(default_factory=dict)
    outputs: Mapping[str, PortType] = field(default_factory=dict)
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    # A pipeline output's `name:`: the data asset that the output of the step bound to it
    # (`${{parent.outputs.NAME}}`) is registered as, as a step output's own `name:` is.
    output_assets: Mapping[str, str] = field(default_factory=dict)

    def compute_of(self, step: Step) -> str:
        return step.compute or self.settings.default_compute

    def asset_of(self, output: StepOutput) -> str | None:
        """The data asset a step's output is registered as: its own `name:`, else that of
        the pipeline output it is bound to; None when neither names one."""
        if output.asset_name is not None or output.parent_output is None:
            return output.asset_name
        return self.output_assets.get(output.parent_output)

    def check(self) -> Pipeline:
        """Refuse, in one line naming the step and field, what cannot run; self when sound."""
        if not self.steps:
            raise InvalidValue("the pipeline has no steps: add at least one under 'jobs'")
        for name in (*self.inputs, *self.outputs):
            _check_port_name(name, "the pipeline's")
        for step in self.steps.values():
            self._check_step(step)
        self.order()
        return self

    def order(self) -> list[str]:
        """The steps in an order where each comes after what it reads (file order otherwise);
        a cycle is refused, named."""
        placed: list[str] = []
        done: set[str] = set()
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                cycle = [*visiting[visiting.index(name) :], name]
                raise InvalidValue(
                    f"steps {' → '.join(cycle)} form a cycle: a step cannot read, directly or"
                    " through others, its own output; remove one of these bindings",
                    cycle=cycle,
                )
            visiting.append(name)
            for upstream in sorted(self.steps[name].upstream()):
                visit(upstream)
            visiting.pop()
            done.add(name)
            placed.append(name)

        for name in self.steps:
            visit(name)
        return placed

    def dependants(self, name: str) -> set[str]:
        """The steps that read `name`'s outputs, directly or through others."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for step in self.steps.values():
                if current in step.upstream() and step.name not in found:
                    found.add(step.name)
                    frontier.append(step.name)
        return found

    def upstream_of(self, name: str) -> set[str]:
        """The steps `name` reads from, directly or through others."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            for upstream in self.steps[frontier.pop()].upstream():
                if upstream not in found:
                    found.add(upstream)
                    frontier.append(upstream)
        return found

    def require_step(self, name: str) -> Step:
        if name not in self.steps:
            raise InvalidValue(
                f"the pipeline has no step {name!r}{did_you_mean(name, self.steps)}",
                step=name,
            )
        return self.steps[name]

    def source_type(self, binding: Binding) -> PortType:
        """The type of what feeds `binding` (checked to exist)."""
        if binding.parent_input is not None:
            return self.inputs[binding.parent_input].type
        if binding.step is not None:
            assert binding.output is not None
            return self.steps[binding.step].output_ports()[binding.output].type
        return PortType.of_literal(binding.literal)

    def input_type(self, step: Step, name: str) -> PortType:
        port = step.inputs[name]
        return port.type or self.source_type(port.binding)

    # Checks ------------------------------------------------------------------------------

    def _check_step(self, step: Step) -> None:
        where = f"step {step.name!r}"
        if step.type.runs_code and len(step.command) < 2:
            raise InvalidValue(
                f"{where} has no command: add 'command: python SCRIPT ARGS…'",
                step=step.name,
                field="command",
            )
        for name, port in step.inputs.items():
            _check_port_name(name, f"{where}'s")
            self._check_input(step, name, port)
        if step.type.kind is not None:
            self._check_builtin_ports(step, step.type.kind)
        for name, output in step.output_ports().items():
            _check_port_name(name, f"{where}'s")
            self._check_output(step, name, output)
        if step.type.runs_code:
            check_command_ports(
                f"step {step.name!r}",
                "the step",
                step.references(),
                step.inputs,
                step.outputs,
                step=step.name,
            )

    def _check_builtin_ports(self, step: Step, kind: StepKind) -> None:
        """A built-in job's inputs are its own: each required one bound, none it does not
        read, each of a type it takes; its outputs are the job's."""
        where = f"step {step.name!r} ({step.type.value})"
        for name, spec in kind.inputs.items():
            if name not in step.inputs and spec.required:
                raise InvalidValue(
                    f"{where} needs input {name!r} ({spec.describe()}): add"
                    f" '{name}: ${{{{parent.inputs.NAME}}}}' under its inputs",
                    step=step.name,
                    field=f"inputs.{name}",
                )
        for name in step.inputs:
            if kind.inputs and name not in kind.inputs:
                raise InvalidValue(
                    f"{where} has input {name!r}, which a {step.type.value} step does not read:"
                    f" use {', '.join(sorted(kind.inputs))}",
                    step=step.name,
                    field=f"inputs.{name}",
                )
            source = self.input_type(step, name)
            if name in kind.inputs and not kind.inputs[name].accepts(source):
                raise InvalidValue(
                    f"{where} input {name!r} is fed {_describe_source(step.inputs[name].binding)},"
                    f" which is {source.value}: a {step.type.value} step reads"
                    f" {kind.inputs[name].describe()} there",
                    step=step.name,
                    field=f"inputs.{name}",
                )
        self._check_builtin_outputs(step, kind, where)

    @staticmethod
    def _check_builtin_outputs(step: Step, kind: StepKind, where: str) -> None:
        for name in step.outputs:
            if name not in kind.outputs:
                raise InvalidValue(
                    f"{where} has output {name!r}, which a {step.type.value} step does not"
                    f" write: its outputs are {', '.join(sorted(kind.outputs))}",
                    step=step.name,
                    field=f"outputs.{name}",
                )
            if step.outputs[name].type is not kind.outputs[name]:
                raise InvalidValue(
                    f"{where} output {name!r} is {step.outputs[name].type.value}, but a"
                    f" {step.type.value} step writes it as {kind.outputs[name].value}: declare"
                    f" it {{type: {kind.outputs[name].value}}}",
                    step=step.name,
                    field=f"outputs.{name}",
                )

    def _check_input(self, step: Step, name: str, port: StepInput) -> None:
        where = f"step {step.name!r} input {name!r}"
        binding = port.binding
        if binding.parent_input is not None and binding.parent_input not in self.inputs:
            raise InvalidValue(
                f"{where} reads parent input {binding.parent_input!r}, which the pipeline does"
                f" not declare{did_you_mean(binding.parent_input, self.inputs)}",
                step=step.name,
                field=f"inputs.{name}",
            )
        if binding.step is not None:
            self._check_upstream(step, where, binding, f"inputs.{name}")
        source = self.source_type(binding)
        if port.type is not None and not _reads_data_asset(port) and not port.type.accepts(source):
            raise InvalidValue(
                f"{where} is {port.type.value} but is fed {_describe_source(binding)}, which"
                f" is {source.value}: bind it to a {port.type.value} or change its type",
                step=step.name,
                field=f"inputs.{name}",
            )

    def _check_upstream(self, step: Step, where: str, binding: Binding, field_: str) -> None:
        assert binding.step is not None and binding.output is not None
        if binding.step not in self.steps:
            raise InvalidValue(
                f"{where} reads step {binding.step!r}, which does not exist"
                f"{did_you_mean(binding.step, self.steps)}",
                step=step.name,
                field=field_,
            )
        outputs = self.steps[binding.step].output_ports()
        if binding.output not in outputs:
            raise InvalidValue(
                f"{where} reads output {binding.output!r} of step {binding.step!r}, which it"
                f" does not declare{did_you_mean(binding.output, outputs)}",
                step=step.name,
                field=field_,
            )

    def _check_output(self, step: Step, name: str, output: StepOutput) -> None:
        where = f"step {step.name!r} output {name!r}"
        if not output.type.is_data:
            raise InvalidValue(
                f"{where} is {output.type.value}: a step's outputs are folders or files it"
                " writes (uri_folder, uri_file, custom_model)",
                step=step.name,
                field=f"outputs.{name}",
            )
        target = output.parent_output
        if target is None:
            return
        if target not in self.outputs:
            raise InvalidValue(
                f"{where} names pipeline output {target!r}, which the pipeline does not declare"
                f"{did_you_mean(target, self.outputs)}",
                step=step.name,
                field=f"outputs.{name}",
            )
        if self.outputs[target] is not output.type:
            raise InvalidValue(
                f"{where} is {output.type.value} but pipeline output {target!r} is"
                f" {self.outputs[target].value}: make the two types the same",
                step=step.name,
                field=f"outputs.{name}",
            )
        named = self.output_assets.get(target)
        if named is not None and output.asset_name not in (None, named):
            raise InvalidValue(
                f"{where} is registered as data {output.asset_name!r}, but pipeline output"
                f" {target!r} names {named!r}: give the name in one of the two places",
                step=step.name,
                field=f"outputs.{name}.name",
            )

    # The dict form: Azure's YAML shape, also the driver's pipeline.json ------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "pipeline",
            "display_name": self.name,
            "experiment_name": self.experiment,
            "settings": self.settings.to_dict(),
            "inputs": {name: port.to_dict() for name, port in self.inputs.items()},
            "outputs": {name: self._output_dict(name) for name in self.outputs},
            "jobs": {name: step.to_dict() for name, step in self.steps.items()},
        }

    def _output_dict(self, name: str) -> dict[str, str]:
        data = {"type": self.outputs[name].value}
        if name in self.output_assets:
            data["name"] = self.output_assets[name]
        return data


# Parsing the dict form (the YAML's fields already checked by the loader) -----------------


def parse_pipeline_inputs(data: Mapping[str, Any]) -> dict[str, PipelineInput]:
    return {str(name): _pipeline_input(str(name), value) for name, value in data.items()}


def _pipeline_input(name: str, value: object) -> PipelineInput:
    where = f"pipeline input {name!r}"
    if not isinstance(value, Mapping):
        literal = _literal(value, where)
        return PipelineInput(PortType.of_literal(literal), literal)
    _refuse_unknown(where, value, {"type", "path", "default", "value", "description"})
    if "type" not in value:
        raise InvalidValue(f"{where} needs a type: add 'type: uri_folder' (or a literal's type)")
    kind = PortType.parse(value["type"], where)
    key = "path" if kind.is_data else ("default" if "default" in value else "value")
    if value.get(key) is None:
        raise InvalidValue(f"{where} needs a {key!r}: add it", field=f"inputs.{name}")
    return PipelineInput(kind, typed_literal(kind, value[key], where))


def parse_pipeline_outputs(data: Mapping[str, Any]) -> tuple[dict[str, PortType], dict[str, str]]:
    """Each pipeline output's type, and the data asset names of those that give `name:`."""
    outputs: dict[str, PortType] = {}
    assets: dict[str, str] = {}
    for name, value in data.items():
        where = f"pipeline output {name!r}"
        spec = value if isinstance(value, Mapping) else {}
        _refuse_unknown(where, spec, {"type", "description", "name", "version"})
        outputs[str(name)] = PortType.parse(spec.get("type", "uri_folder"), where)
        refuse_output_version(where, spec)
        if spec.get("name") is not None:
            _check_asset_name(where, spec["name"])
            assets[str(name)] = str(spec["name"])
    return outputs, assets


def refuse_output_version(where: str, spec: Mapping[str, Any]) -> None:
    """Azure's `version:` on an output: the workspace numbers data versions itself (the next
    number, or the existing version whose content is the same), so none can be chosen."""
    if spec.get("version") is None:
        return
    name = spec.get("name") or "NAME"
    raise InvalidValue(
        f"{where} version {spec['version']!r}: data asset versions are numbered by the"
        " workspace (the next number, or the existing version with the same content), not"
        f" chosen: remove 'version'; `modelyard data show {name}` shows the version it got",
        field="version",
    )


def parse_step_inputs(step: str, data: Mapping[str, Any]) -> dict[str, StepInput]:
    ports: dict[str, StepInput] = {}
    for name, value in data.items():
        where = f"step {step!r} input {name!r}"
        try:
            ports[str(name)] = _step_input(where, value)
        except InvalidValue as error:
            if error.message.startswith("step "):
                raise
            raise InvalidValue(
                f"{where}: {error.message}", step=step, field=f"inputs.{name}"
            ) from None
    return ports


def _step_input(where: str, value: object) -> StepInput:
    if not isinstance(value, Mapping):
        return StepInput(Binding.parse(value))
    _refuse_unknown(where, value, {"type", "path", "value", "default", "mode"})
    kind = PortType.parse(value.get("type", "uri_folder"), where)
    source = next((value[key] for key in ("path", "value", "default") if key in value), None)
    if source is None:
        raise InvalidValue(f"{where} needs a 'path' (or 'value') naming where it comes from")
    return StepInput(Binding.parse(source), kind)


def parse_step_outputs(step: str, data: Mapping[str, Any]) -> dict[str, StepOutput]:
    outputs: dict[str, StepOutput] = {}
    for name, value in data.items():
        where = f"step {step!r} output {name!r}"
        outputs[str(name)] = _step_output(where, value)
    return outputs


def _step_output(where: str, value: object) -> StepOutput:
    if value is None:
        return StepOutput()
    if isinstance(value, str):
        match = _WHOLE_REFERENCE.match(value)
        parts = match.group(1).split(".") if match else []
        if len(parts) != 3 or parts[:2] != ["parent", "outputs"]:
            raise InvalidValue(
                f"{where} is {value!r}: write {{type: uri_folder}} or ${{{{parent.outputs.NAME}}}}"
            )
        return StepOutput(parent_output=parts[2])
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{where} is {value!r}: write {{type: uri_folder}}")
    _refuse_unknown(where, value, {"type", "mode", "path", "name", "version"})
    kind = PortType.parse(value.get("type", "uri_folder"), where)
    refuse_output_version(where, value)
    parent = _step_output(where, value["path"]).parent_output if value.get("path") else None
    name = value.get("name")
    if name is not None:
        _check_asset_name(where, name)
    return StepOutput(kind, parent, None if name is None else str(name))


def _check_asset_name(where: str, name: object) -> None:
    try:
        validate_data_name(str(name))
    except InvalidValue as error:
        raise InvalidValue(f"{where} name {name!r}: {error.message}") from None


def check_command_ports(
    where: str,
    owner: str,
    references: Iterable[tuple[str, str]],
    inputs: Mapping[str, object],
    outputs: Mapping[str, object],
    **context: Any,
) -> None:
    """Every `${{inputs.x}}`/`${{outputs.y}}` a command makes (its `command_references`) is
    among the declared ports (a step's, a component's); one line naming the first that is not."""
    for kind, name in references:
        declared: Mapping[str, object] = {"inputs": inputs, "outputs": outputs}.get(kind, {})
        if kind not in ("inputs", "outputs"):
            raise InvalidValue(
                f"{where} command refers to ${{{{{kind}.{name}}}}}: a command takes"
                " ${{inputs.NAME}} and ${{outputs.NAME}}; bind parent values in the step's"
                " inputs",
                field="command",
                **context,
            )
        if name not in declared:
            raise InvalidValue(
                f"{where} command uses ${{{{{kind}.{name}}}}}, which {owner} does not declare"
                f" under {kind}{did_you_mean(name, declared)}",
                field="command",
                **context,
            )


def command_references(
    command: Iterable[str], skip: frozenset[str] = frozenset()
) -> Iterable[tuple[str, str]]:
    """Each `(kind, name)` of `${{inputs.name}}`/`${{outputs.name}}` in a command's words, but
    those of the kinds in `skip` (filled in by someone else)."""
    for word in command:
        for reference in _REFERENCE.findall(word):
            kind, _, name = reference.partition(".")
            if kind not in skip:
                yield kind, name


def _refuse_unknown(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise InvalidValue(
            f"{where} has unknown field {unknown[0]!r}: use one of {', '.join(sorted(known))}",
            field=unknown[0],
        )


def _literal(value: object, where: str = "a binding") -> Literal:
    if isinstance(value, str | int | float | bool):
        return value
    raise InvalidValue(
        f"{where} is {value!r}: write a string, a number, true/false or a ${{{{…}}}} binding"
    )


def typed_literal(kind: PortType, value: object, where: str) -> Literal:
    literal = _literal(value, where)
    if kind.is_data or kind is PortType.STRING:
        return str(literal)
    if not kind.accepts(PortType.of_literal(literal)):
        raise InvalidValue(f"{where} is {kind.value} but its value {literal!r} is not")
    return literal


def _reads_data_asset(port: StepInput) -> bool:
    """A data input's own `path: data:NAME@latest` (a version pinned at submission)."""
    literal = port.binding.literal
    is_data = port.type is not None and port.type.is_data
    return is_data and isinstance(literal, str) and is_data_reference(literal)


def _check_port_name(name: str, whose: str) -> None:
    if not _PORT_NAME.match(name):
        raise InvalidValue(
            f"{whose} port name {name!r} is not valid: use letters, digits and _ (not first"
            " a digit), at most 64",
            port=name,
        )


def did_you_mean(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f": did you mean {close[0]!r}?"
    return f" (there are {', '.join(known)})" if known else " (there are none)"


def _describe_source(binding: Binding) -> str:
    if binding.parent_input is not None:
        return f"parent input {binding.parent_input!r}"
    if binding.step is not None:
        return f"output {binding.output!r} of step {binding.step!r}"
    return f"the literal {binding.literal!r}"


def format_literal(value: Literal) -> str:
    """A literal as its command word: YAML's true/false as Python writes them."""
    return str(value)


# Reuse -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReuseKey:
    """What a step's run depends on. Equal keys: the earlier run's outputs stand for this one."""

    code: str  # the code snapshot's content hash
    environment: str  # the environment spec's hash
    parameters: Mapping[str, str]  # the command and each literal input, as text
    inputs: Mapping[str, str]  # each data input's content hash

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "environment": self.environment,
            "parameters": dict(self.parameters),
            "inputs": dict(self.inputs),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReuseKey:
        return cls(
            code=str(data["code"]),
            environment=str(data["environment"]),
            parameters={str(k): str(v) for k, v in dict(data["parameters"]).items()},
            inputs={str(k): str(v) for k, v in dict(data["inputs"]).items()},
        )


COMMAND_PARAMETER: Final = "command"  # the step's command template, a parameter of its key


def describe_change(old: ReuseKey | None, new: ReuseKey) -> str:
    """Why `new` is not `old`, part by part ("code changed; input `raw` changed content");
    "first run" without an earlier key; "nothing changed" when they are equal."""
    if old is None:
        return "first run"
    changes: list[str] = []
    if old.code != new.code:
        changes.append("code changed")
    if old.environment != new.environment:
        changes.append("environment changed")
    changes += _mapping_changes("parameter", old.parameters, new.parameters, True)
    changes += _mapping_changes("input", old.inputs, new.inputs, False)
    return "; ".join(changes) or "nothing changed"


def _mapping_changes(
    noun: str, old: Mapping[str, str], new: Mapping[str, str], show: bool
) -> list[str]:
    changes = []
    for name in sorted(set(old) | set(new)):
        label = "the command" if noun == "parameter" and name == COMMAND_PARAMETER else None
        label = label or f"{noun} `{name}`"
        if name not in old:
            changes.append(f"{label} added")
        elif name not in new:
            changes.append(f"{label} removed")
        elif old[name] != new[name]:
            detail = f" ({old[name]} → {new[name]})" if show and label.startswith(noun) else ""
            what = "changed" if show else "changed content"
            changes.append(f"{label} {what}{detail}")
    return changes


@dataclass(frozen=True)
class StepRecord:
    """A step's run as the pipeline store indexes it (`pipeline_steps`, migration 0015)."""

    run_id: str
    pipeline_run_id: str
    experiment: str
    pipeline: str
    step: str
    key: ReuseKey
    reused_from: str | None = None  # the run whose outputs this step has, when reused
    reason: str = ""
    created_at: datetime | None = None

    @property
    def outputs_run(self) -> str:
        return self.reused_from or self.run_id
