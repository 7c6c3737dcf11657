"""A pipeline step that names a registered component (`component: azureml:train:2`,
`azureml:train@latest`, `train:2`) resolved into the fields of a command step: the version's
command, environment and code snapshot, and the step's bindings typed by the component's
declared ports (so `Pipeline.check` judges each binding against the component's types).

The version is pinned when the file is read: the step records `azureml:NAME:VERSION`, the
driver's `pipeline.json` keeps that with the resolved fields (read back as they are), and the
step's run carries it as a property. Its code is the version's snapshot, so the step's reuse
key changes exactly when another version's code runs.

A sweep step names one as its trial (`trial: azureml:train:1`, Azure's sweep node over a
command component): each search_space key is one of the component's inputs, which every trial
gets from the sampler (`${{inputs.lr}}` becomes `${{search_space.lr}}` in the trial's command),
so what its distribution draws must be of the input's declared type (an integer input takes
whole numbers: a choice of them, randint, or a q-variant with a whole q);
the step's `inputs:` bind the others, typed as for a command step. The trial's outputs are
in its run's `outputs/` (`${{outputs.model}}` becomes `outputs/model`, a folder made before
the script starts when the output is a folder, as a command step's is), so the best trial's
`model` is `best_trial/model`. It is recorded as a folder trial (`trial: {code, command,
environment, outputs}`, `outputs` naming the folders to make) with `component:` beside it,
read back as is.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities.components import COMPONENT_TYPE, ComponentVersion
from modelyard.entities.pipeline_steps import PortType
from modelyard.entities.sweep_space import Distribution, ParamValue, format_value
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue, ModelyardError
from modelyard.services.run_files import OUTPUTS_FOLDER

# A component reference → the version it names and its code as a folder on this machine.
ComponentLookup = Callable[[str], tuple[ComponentVersion, Path]]

COMPONENT_STEP_FIELDS: Final = frozenset(
    {"type", "component", "compute", "inputs", "outputs", "force_rerun", "description"}
)
_KEPT_FIELDS: Final = ("compute", "force_rerun", "description")
# What a search space must draw for an input of each declared type, and how to write it.
_DRAWS: Final[Mapping[PortType, str]] = {
    PortType.INTEGER: "whole numbers: a choice of them ({type: choice, values: [16, 32]}),"
    " randint ({type: randint, upper: 10}) or a q-variant with a whole q ({type: quniform,"
    " min_value: 16, max_value: 128, q: 16})",
    PortType.NUMBER: "numbers: a choice of them ({type: choice, values: [0.01, 0.1]}) or a"
    " distribution ({type: uniform, min_value: 0.01, max_value: 0.1})",
    PortType.STRING: "strings: a choice of them ({type: choice, values: ['adam', 'sgd']})",
    PortType.BOOLEAN: "true or false: {type: choice, values: [true, false]}",
}
# `${{inputs.NAME}}` / `${{outputs.NAME}}` in a component's command.
_PORT_REFERENCE: Final = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")


def component_step_fields(
    step: str, spec: Mapping[str, Any], components: ComponentLookup | None
) -> Mapping[str, Any]:
    """`spec` as a command step's fields: unchanged without `component`, or when it is the
    recorded form (a `pipeline.json`, already resolved: read without `components`)."""
    if "component" not in spec:
        return spec
    if components is None and "command" in spec:
        return spec
    _refuse_unknown(step, spec)
    if components is None:
        raise InvalidValue(
            f"step {step!r} names component {spec['component']!r}, which only a workspace"
            " can resolve: submit the pipeline with `modelyard job create -f FILE`",
            step=step,
            field="component",
        )
    version, code = _lookup(step, spec["component"], components, "component")
    _check_type(step, spec.get("type"), version)
    fields: dict[str, Any] = {key: spec[key] for key in _KEPT_FIELDS if key in spec}
    fields.update(
        type=COMPONENT_TYPE,
        component=version.reference,
        command=list(version.spec.command),
        code=str(code),
        inputs=_inputs(step, version, _mapping(step, spec.get("inputs"), "inputs")),
        outputs=_outputs(step, version, _mapping(step, spec.get("outputs"), "outputs")),
    )
    if version.spec.environment is not None:
        fields["environment"] = dict(version.spec.environment)
    return fields


def component_trial_fields(
    step: str, spec: Mapping[str, Any], components: ComponentLookup | None
) -> Mapping[str, Any]:
    """A sweep step's fields with its trial component resolved into a folder trial and its
    pinned `component`; unchanged when its trial is a folder's or already resolved (a
    `pipeline.json`, read without `components`)."""
    trial = spec.get("trial")
    if "component" in spec and (components is not None or not isinstance(trial, Mapping)):
        raise InvalidValue(
            f"step {step!r} (sweep) names 'component': a sweep runs a component as its"
            f" trial; write 'trial: {spec['component']}' instead",
            step=step,
            field="component",
        )
    if not isinstance(trial, str):
        return spec
    if components is None:
        raise InvalidValue(
            f"step {step!r} trial names component {trial!r}, which only a workspace can"
            " resolve: submit the pipeline with `modelyard job create -f FILE`",
            step=step,
            field="trial",
        )
    version, code = _lookup(step, trial, components, "trial")
    search_space = _mapping(step, spec.get("search_space"), "search_space")
    searched = _searched_inputs(step, version, search_space)
    bound = _mapping(step, spec.get("inputs"), "inputs")
    _refuse_searched_bindings(step, bound, searched)
    resolved: dict[str, Any] = {
        "code": str(code),
        "command": _trial_command(version, searched),
        "outputs": [name for name, kind in version.spec.outputs.items() if kind.is_folder],
    }
    if version.spec.environment is not None:
        resolved["environment"] = dict(version.spec.environment)
    return {
        **spec,
        "trial": resolved,
        "component": version.reference,
        "inputs": _inputs(step, version, bound, skip=searched),
    }


def _searched_inputs(
    step: str, version: ComponentVersion, search_space: Mapping[str, Any]
) -> frozenset[str]:
    """The search_space keys, each an input of the component that takes a value."""
    declared = version.spec.inputs
    _refuse_undeclared(step, version, "input", search_space, declared, "searches", "search_space")
    for name in search_space:
        if declared[name].type.is_data:
            raise InvalidValue(
                f"step {step!r} searches input {name!r} of component {version.reference},"
                f" which is {declared[name].type.value}: a search space sets numbers, integers,"
                f" strings or booleans; bind {name!r} under the step's inputs instead",
                step=step,
                field=f"search_space.{name}",
            )
        _check_drawn_type(step, version, str(name), search_space[name])
    return frozenset(map(str, search_space))


def _check_drawn_type(step: str, version: ComponentVersion, name: str, spec: object) -> None:
    """What `spec` draws is of input `name`'s declared type: each choice, or the kind of
    number another distribution draws."""
    try:
        distribution = Distribution.parse(name, spec)
    except ModelyardError:
        return  # judged with the sweep's other fields (`check_settings`), in their words
    declared = version.spec.inputs[name].type
    for value, drawn in _drawn(distribution):
        if not declared.accepts(PortType.of_literal(drawn)):
            raise InvalidValue(
                f"step {step!r} search_space.{name}: {value}, but component"
                f" {version.reference} declares input {name!r} {declared.value}: give"
                f" {_DRAWS[declared]}",
                step=step,
                field=f"search_space.{name}",
                expected=declared.value,
            )


def _drawn(distribution: Distribution) -> list[tuple[str, ParamValue]]:
    """Each value a distribution draws, said as a refusal names it, with one of its kind."""
    if distribution.is_choice:
        return [
            (f"choice value {value!r} is {_kind_of(value)}", value) for value in distribution.values
        ]
    written = ", ".join(f"{k}: {format_value(v)}" for k, v in distribution.to_dict().items())
    if distribution.draws_whole_numbers:
        return [(f"{{{written}}} draws whole numbers", 1)]
    return [(f"{{{written}}} draws decimal numbers", 0.5)]


def _kind_of(value: ParamValue) -> str:
    kind = PortType.of_literal(value)
    return {PortType.INTEGER: "a whole number", PortType.NUMBER: "a decimal number"}.get(
        kind, f"a {kind.value}"
    )


def _refuse_searched_bindings(
    step: str, bound: Mapping[str, Any], searched: frozenset[str]
) -> None:
    for name in bound:
        if name in searched:
            raise InvalidValue(
                f"step {step!r} binds input {name!r}, which its search_space also sets: remove"
                f" it from the step's inputs (each trial gets its value from the search space)",
                step=step,
                field=f"inputs.{name}",
            )


def _trial_command(version: ComponentVersion, searched: frozenset[str]) -> list[str]:
    """The component's command with each searched input filled in by the sweep and each
    output a folder of the trial's `outputs/`."""

    def rewritten(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "outputs":
            return f"{OUTPUTS_FOLDER}/{name}"
        return f"${{{{search_space.{name}}}}}" if name in searched else match.group(0)

    return [_PORT_REFERENCE.sub(rewritten, word) for word in version.spec.command]


def _refuse_unknown(step: str, spec: Mapping[str, Any]) -> None:
    if "command" in spec or "code" in spec or "environment" in spec:
        field = next(f for f in ("command", "code", "environment") if f in spec)
        raise InvalidValue(
            f"step {step!r} names component {spec['component']!r} and also sets {field!r}:"
            f" remove {field!r} (the component's is used), or drop 'component'",
            step=step,
            field=field,
        )
    try:
        refuse_unknown_fields(f"step {step!r}", spec, COMPONENT_STEP_FIELDS)
    except InvalidValue as error:
        raise InvalidValue(error.message, step=step, **error.context) from None


def _lookup(
    step: str, reference: object, components: ComponentLookup, field: str
) -> tuple[ComponentVersion, Path]:
    try:
        return components(str(reference))
    except ModelyardError as error:
        raise InvalidValue(
            f"step {step!r} {field}: {error.message}", step=step, field=field
        ) from None


def _check_type(step: str, kind: object, version: ComponentVersion) -> None:
    if kind is not None and str(kind).strip().lower() != COMPONENT_TYPE:
        raise InvalidValue(
            f"step {step!r} has type {kind!r} but component {version.reference} is a"
            f" {COMPONENT_TYPE} component: remove 'type' or write 'type: {COMPONENT_TYPE}'",
            step=step,
            field="type",
        )


def _inputs(
    step: str,
    version: ComponentVersion,
    bound: Mapping[str, Any],
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The component's inputs (but those in `skip`, a sweep's searched ones) as the step's:
    bound, typed; else defaulted; else left out when optional."""
    declared = {name: port for name, port in version.spec.inputs.items() if name not in skip}
    _refuse_undeclared(step, version, "input", bound, declared)
    inputs: dict[str, Any] = {}
    for name, port in declared.items():
        key = "path" if port.type.is_data else "value"
        if name in bound:
            inputs[name] = _typed(step, version, name, port.type.value, key, bound[name])
        elif port.default is not None:
            inputs[name] = {"type": port.type.value, "value": port.default}
        elif not port.optional:
            raise InvalidValue(
                f"step {step!r} leaves input {name!r} of component {version.reference}"
                f" unbound, and it has no default: bind it under the step's inputs",
                step=step,
                field=f"inputs.{name}",
            )
    return inputs


def _outputs(step: str, version: ComponentVersion, bound: Mapping[str, Any]) -> dict[str, Any]:
    declared = version.spec.outputs
    _refuse_undeclared(step, version, "output", bound, declared)
    outputs: dict[str, Any] = {}
    for name, kind in declared.items():
        if name in bound and bound[name] is not None:
            outputs[name] = _typed(step, version, name, kind.value, "path", bound[name])
        else:
            outputs[name] = {"type": kind.value}
    return outputs


def _typed(
    step: str, version: ComponentVersion, name: str, kind: str, key: str, value: object
) -> Any:
    """A binding with the component's declared type: a bare binding gets it; a mapping's
    own type must be the same."""
    if not isinstance(value, Mapping):
        return {"type": kind, key: value}
    given = value.get("type")
    if given is not None and str(given).strip().lower() != kind:
        raise InvalidValue(
            f"step {step!r} port {name!r} is written as {given!r} but component"
            f" {version.reference} declares it {kind}: remove its 'type' or write {kind}",
            step=step,
            field=name,
        )
    return {**value, "type": kind}


def _refuse_undeclared(
    step: str,
    version: ComponentVersion,
    noun: str,
    bound: Mapping[str, Any],
    declared: Iterable[str],
    verb: str = "binds",
    section: str | None = None,
) -> None:
    """Each name `bound` (under `section`, default the noun's plural) is `declared`: else
    one line with the closest."""
    known = sorted(declared)
    for name in bound:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"it has {', '.join(known) or 'none'}"
            )
            raise InvalidValue(
                f"step {step!r} {verb} {noun} {name!r}, which component {version.reference}"
                f" does not declare: {hint}",
                step=step,
                field=f"{section or noun + 's'}.{name}",
            )


def _mapping(step: str, value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(
            f"step {step!r} {where} is {value!r}: write a mapping of names", step=step
        )
    return value
