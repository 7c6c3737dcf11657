"""A pipeline step that names a registered component (`component: azureml:train:2`,
`azureml:train@latest`, `train:2`) resolved into the fields of a command step: the version's
command, environment and code snapshot, and the step's bindings typed by the component's
declared ports (so `Pipeline.check` judges each binding against the component's types).

The version is pinned when the file is read: the step records `azureml:NAME:VERSION`, the
driver's `pipeline.json` keeps that with the resolved fields (read back as they are), and the
step's run carries it as a property. Its code is the version's snapshot, so the step's reuse
key changes exactly when another version's code runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from modelyard.entities.components import COMPONENT_TYPE, ComponentVersion
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue, ModelyardError

# A component reference → the version it names and its code as a folder on this machine.
ComponentLookup = Callable[[str], tuple[ComponentVersion, Path]]

COMPONENT_STEP_FIELDS: Final = frozenset(
    {"type", "component", "compute", "inputs", "outputs", "force_rerun", "description"}
)
_KEPT_FIELDS: Final = ("compute", "force_rerun", "description")


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
    version, code = _lookup(step, spec["component"], components)
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
    step: str, reference: object, components: ComponentLookup
) -> tuple[ComponentVersion, Path]:
    try:
        return components(str(reference))
    except ModelyardError as error:
        raise InvalidValue(
            f"step {step!r} component: {error.message}", step=step, field="component"
        ) from None


def _check_type(step: str, kind: object, version: ComponentVersion) -> None:
    if kind is not None and str(kind).strip().lower() != COMPONENT_TYPE:
        raise InvalidValue(
            f"step {step!r} has type {kind!r} but component {version.reference} is a"
            f" {COMPONENT_TYPE} component: remove 'type' or write 'type: {COMPONENT_TYPE}'",
            step=step,
            field="type",
        )


def _inputs(step: str, version: ComponentVersion, bound: Mapping[str, Any]) -> dict[str, Any]:
    declared = version.spec.inputs
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
) -> None:
    known = sorted(declared)
    for name in bound:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"it has {', '.join(known) or 'none'}"
            )
            raise InvalidValue(
                f"step {step!r} binds {noun} {name!r}, which component {version.reference}"
                f" does not declare: {hint}",
                step=step,
                field=f"{noun}s.{name}",
            )


def _mapping(step: str, value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(
            f"step {step!r} {where} is {value!r}: write a mapping of names", step=step
        )
    return value
