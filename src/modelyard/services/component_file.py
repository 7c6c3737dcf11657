"""Component YAML (`modelyard component create -f component.yml`, the SDK's `load_component`),
Azure ML v2's command component::

    $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
    type: command                      # the only type registered
    name: train
    version: 2                         # optional: the next number
    display_name: Train
    description: Trains the model.
    inputs:
      data: {type: uri_folder}
      epochs: {type: integer, default: 3}
      note: {type: string, optional: true}
    outputs:
      model: {type: uri_folder}
    code: ./src                        # relative to this file (default: its folder)
    command: >-
      python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}
      --out ${{outputs.model}}
    environment: {name: train-env, pip_requirements: requirements.txt}   # optional

Every refusal is one line naming the file, the field, the bad value and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from modelyard.entities.components import (
    COMPONENT_TYPE,
    ComponentInput,
    ComponentSpec,
    validate_component_version,
)
from modelyard.entities.pipelines import PortType, typed_literal
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.services.job_fields import command_words, environment_from
from modelyard.services.yaml_file import read_yaml_mapping

COMPONENT_FIELDS: Final = frozenset(
    {
        "$schema",
        "type",
        "name",
        "version",
        "display_name",
        "description",
        "tags",
        "is_deterministic",
        "inputs",
        "outputs",
        "code",
        "command",
        "environment",
    }
)
INPUT_FIELDS: Final = frozenset({"type", "default", "optional", "description"})
OUTPUT_FIELDS: Final = frozenset({"type", "description"})


@dataclass(frozen=True)
class ComponentFile:
    spec: ComponentSpec
    code: Path  # the code folder, absolute


def load_component_file(path: str | Path) -> ComponentFile:
    file = Path(path)
    return component_from(file, read_yaml_mapping(file, "component file", "name and command"))


def component_from(path: Path, data: Mapping[str, Any]) -> ComponentFile:
    """The component a file's mapping describes, checked whole; one line naming the file."""
    try:
        return _component(path, data)
    except ModelyardError as error:
        if error.message.startswith("component file"):
            raise
        context = {**error.context, "path": str(path)}
        raise type(error)(f"component file {path}: {error.message}", **context) from None


def _component(path: Path, data: Mapping[str, Any]) -> ComponentFile:
    refuse_unknown_fields("the component", data, COMPONENT_FIELDS)
    kind = str(data.get("type") or COMPONENT_TYPE).strip().lower()
    if kind != COMPONENT_TYPE:
        raise InvalidValue(
            f"type is {data['type']!r}: only command components are registered; write"
            " 'type: command'",
            field="type",
        )
    if not data.get("name"):
        raise InvalidValue("the component needs 'name': add it, as in 'name: train'")
    if not data.get("command"):
        raise InvalidValue(
            "the component has no command: add 'command: python SCRIPT ARGS…'", field="command"
        )
    base = path.absolute().parent
    name = str(data["name"])
    script, arguments = command_words(path, data["command"], "command")
    spec = ComponentSpec(
        name=name,
        command=("python", script, *arguments),
        inputs=_inputs(_mapping(data.get("inputs"), "inputs")),
        outputs=_outputs(_mapping(data.get("outputs"), "outputs")),
        environment=_environment(path, base, data.get("environment")),
        display_name=_text(data.get("display_name")),
        description=_text(data.get("description")),
        version=None
        if data.get("version") is None
        else validate_component_version(data["version"], name),
    )
    return ComponentFile(spec.check(), _code_folder(base, data.get("code")))


def _inputs(data: Mapping[str, Any]) -> dict[str, ComponentInput]:
    inputs: dict[str, ComponentInput] = {}
    for name, value in data.items():
        where = f"input {name!r}"
        spec = value if isinstance(value, Mapping) else {"type": value}
        refuse_unknown_fields(where, spec, INPUT_FIELDS)
        kind = PortType.parse(spec.get("type", PortType.URI_FOLDER.value), where)
        default = spec.get("default")
        if default is not None:
            default = typed_literal(kind, default, f"{where} default")
        optional = spec.get("optional", False)
        if not isinstance(optional, bool):
            raise InvalidValue(f"{where} optional is {optional!r}: write true or false")
        inputs[str(name)] = ComponentInput(kind, default, optional)
    return inputs


def _outputs(data: Mapping[str, Any]) -> dict[str, PortType]:
    outputs: dict[str, PortType] = {}
    for name, value in data.items():
        where = f"output {name!r}"
        spec = value if isinstance(value, Mapping) else {"type": value or "uri_folder"}
        refuse_unknown_fields(where, spec, OUTPUT_FIELDS)
        outputs[str(name)] = PortType.parse(spec.get("type", PortType.URI_FOLDER.value), where)
    return outputs


def _environment(path: Path, base: Path, spec: object) -> dict[str, Any] | None:
    """None: the interpreter the step runs with; else the spec read now (its requirements
    file's lines become part of the version)."""
    return None if spec is None else environment_from(path, base, spec).to_dict()


def _code_folder(base: Path, code: object) -> Path:
    folder = (base / str(code or ".")).absolute()
    if not folder.is_dir():
        raise NotFound(
            f"code {str(code)!r} is not a folder ({folder}): point 'code' at the folder holding"
            " the command's script, relative to the component file",
            field="code",
            code=str(code),
        )
    return folder


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{where} is {value!r}: write a mapping of names", field=where)
    return value
