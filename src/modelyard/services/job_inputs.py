"""A job's `inputs` (Azure ML v2's): data asset references, local paths and literal values,
bound into its command's `${{inputs.NAME}}`.

A reference (`data:flowers@latest`, `azureml:flowers:3`) is resolved when the job is submitted (a
schedule's uploaded job keeps `@latest` for its server to resolve at each fire), to a version number
the run records (`run_inputs`), and to its files: on this machine the read-only cached copy
(`services.data.data_path`); for a job that runs where this disk can't be read (behind a server, or
on a compute on other machines) the files go into the job's snapshot under `inputs/NAME/`, and the
command names that relative path. A local path (`type: uri_folder` with `path: ./images`) is treated
alike, without a version; anything else is a literal, written into the command as it is.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from modelyard.entities.compute import ComputeType
from modelyard.entities.data import DataReference, is_data_reference, parse_data_reference
from modelyard.errors import InvalidValue
from modelyard.services import data
from modelyard.services.workspaces import OpenWorkspace

INPUTS_FOLDER: Final = "inputs"  # where a job run elsewhere finds its inputs, in its snapshot
_PLACEHOLDER = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_.-]+)\s*\}\}")

InputValue = str | Path  # a reference or a literal; a Path: a local file or folder


@dataclass(frozen=True)
class BoundInputs:
    """The command's arguments with every input written in, the files to put in the
    snapshot (snapshot path → file or folder), and the data versions read, by input name."""

    arguments: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)
    data_inputs: dict[str, DataReference] = field(default_factory=dict)


def check_placeholders(arguments: tuple[str, ...], names: set[str], where: str) -> None:
    """Every `${{inputs.NAME}}` names a declared input (checked before anything runs)."""
    for argument in arguments:
        for name in _PLACEHOLDER.findall(argument):
            if name not in names:
                declared = ", ".join(sorted(names)) or "none"
                raise InvalidValue(
                    f"{where}: the command uses ${{{{inputs.{name}}}}}, but the inputs declared"
                    f" are {declared}: declare it under 'inputs:'",
                    input=name,
                )


def bind_inputs(
    ws: OpenWorkspace,
    inputs: Mapping[str, InputValue],
    arguments: tuple[str, ...],
    compute_target: str,
    *,
    unbound: Collection[str] = (),
) -> BoundInputs:
    """`unbound`: inputs whose `${{inputs.NAME}}` stays in the arguments, bound later
    (`latest_references`)."""
    check_placeholders(arguments, set(inputs) | set(unbound), "job")
    texts: dict[str, str] = {}
    local: dict[str, Path] = {}
    read: dict[str, DataReference] = {}
    for name, value in inputs.items():
        path = _local_path(ws, name, value, read)
        if path is None:
            texts[name] = str(value)
        else:
            local[name] = path
    files: dict[str, Path] = {}
    if data_goes_with_the_job(ws, compute_target):
        carried, files = carried_inputs(local)
        texts.update(carried)
    else:
        texts.update({name: str(path.absolute()) for name, path in local.items()})
    bound = tuple(
        _PLACEHOLDER.sub(lambda m: texts.get(m.group(1), m.group(0)), a) for a in arguments
    )
    return BoundInputs(bound, files, read)


def latest_references(ws: OpenWorkspace, inputs: Mapping[str, InputValue]) -> dict[str, str]:
    """The inputs naming a data asset's latest version (`azureml:x@latest`), each checked to
    exist now. A schedule's uploaded job keeps them unbound: the server binds them at each
    fire (`job_upload.UploadedJob.bound`), so a fire reads the data as it is then."""
    latest = {}
    for name, value in inputs.items():
        if is_data_reference(value) and parse_data_reference(str(value)).version is None:
            data.get_data_version(ws, str(value))  # an unknown asset refused at creation
            latest[name] = str(value).strip()
    return latest


def _local_path(
    ws: OpenWorkspace, name: str, value: InputValue, read: dict[str, DataReference]
) -> Path | None:
    if isinstance(value, Path):
        if not value.exists():
            raise InvalidValue(
                f"input {name!r}: path {str(value)!r} does not exist: check the job file's"
                " 'inputs'",
                input=name,
                path=str(value),
            )
        return value
    if not is_data_reference(value):
        return None
    version = data.get_data_version(ws, value)
    read[name] = DataReference(version.name, version.version)
    return data.data_path(ws, version)


def carried_inputs(local: Mapping[str, Path]) -> tuple[dict[str, str], dict[str, Path]]:
    """Local inputs that go with a job run where this disk can't be read: the path its command
    names for each (relative to its working folder), and what `stage_input_files` copies."""
    texts: dict[str, str] = {}
    files: dict[str, Path] = {}
    for name, path in local.items():
        texts[name], files[f"{INPUTS_FOLDER}/{name}"] = _in_snapshot(name, path)
    return texts, files


def _in_snapshot(name: str, local: Path) -> tuple[str, Path]:
    relative = f"{INPUTS_FOLDER}/{name}"
    return (relative if local.is_dir() else f"{relative}/{local.name}"), local


def stage_input_files(files: Mapping[str, Path], snapshot: Path) -> None:
    """Copy each input into the job's snapshot, exactly (no ignore file applies: the job
    must read the version's content); a file into its own folder."""
    for relative, source in files.items():
        if source.is_dir():
            shutil.copytree(source, snapshot / relative)
        else:
            (snapshot / relative).mkdir(parents=True)
            shutil.copyfile(source, snapshot / relative / source.name)


def data_goes_with_the_job(ws: OpenWorkspace, compute_target: str) -> bool:
    """Whether the job runs where this disk can't be read: behind a server, or on a compute
    whose jobs run on other machines (any but `local`)."""
    if ws.server_url is not None:
        return True
    return ws.compute_store.get_compute(compute_target).type is not ComputeType.LOCAL


def resolve_data_argument(
    ws: OpenWorkspace, value: str, input_name: str = "training_data"
) -> tuple[str, dict[str, DataReference]]:
    """A built-in job's `--data`: a reference becomes the version's local read-only path (and
    the version read, as input `input_name`); a path stays as it is."""
    if not is_data_reference(value):
        return value, {}
    version = data.get_data_version(ws, value)
    reference = DataReference(version.name, version.version)
    return str(data.data_path(ws, version)), {input_name: reference}


def resolve_validation_argument(
    ws: OpenWorkspace, value: str | None
) -> tuple[str | None, dict[str, DataReference]]:
    """An image classifier's `--validation-data`, as `resolve_data_argument` does `--data`."""
    if value is None:
        return None, {}
    return resolve_data_argument(ws, value, "validation_data")
