"""Jobs submitted to a workspace behind `modelyard server`: the server's end of the archive.

The client stages the job as it would locally (the code snapshot, or a built-in job's files),
then sends one archive (`job_archive`: `job.json`, then `snapshot/…`). The server checks the
whole archive before a run exists: only regular files and folders, every name through
`safe_relative_path`, a size limit; then it submits an `UploadedJob` like any other job, on its
own compute. Data asset references the client left `@latest` (a schedule's job, uploaded once
and fired many times: `jobs.packed_for_server(keep_latest=True)`) are bound here when the job
is submitted, so each fire reads, and records, the version that is the latest then.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from modelyard.entities import Run, RunSource, validate_compute_name, validate_experiment_name
from modelyard.entities.data import DataReference, is_data_reference, parse_data_reference
from modelyard.entities.names import INPUT_NAME
from modelyard.environments import Environment
from modelyard.services import data
from modelyard.services.job_archive import ARCHIVE
from modelyard.services.job_archive import refused as _bad_job
from modelyard.services.job_inputs import bind_inputs, stage_input_files
from modelyard.services.jobs import check_script_path, submit
from modelyard.services.pipelines.pipeline_job import PIPELINE_MODULE
from modelyard.services.pipelines.submission import pin_driver_config
from modelyard.services.upload_archive import unpack
from modelyard.services.workspaces import OpenWorkspace


@dataclass(frozen=True)
class UploadedJob:
    """A job that arrived as an archive: its snapshot already unpacked in the workspace cache."""

    experiment: str
    compute_target: str
    display_name: str | None
    spec: dict[str, Any]
    source: RunSource
    snapshot: Path
    # `@latest` data references left unbound by the client, bound at submission (`bound`).
    inputs: Mapping[str, str] = field(default_factory=dict)
    input_files: Mapping[str, Path] = field(default_factory=dict)

    def validate(self) -> None:
        validate_experiment_name(self.experiment)
        validate_compute_name(self.compute_target)
        Environment.from_dict(_mapping(self.spec.get("environment"), "spec.environment"))
        arguments = self.spec.get("arguments")
        if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
            raise _bad_job(f"spec.arguments is {arguments!r}, not a list of strings")
        if isinstance(self.spec.get("module"), str):
            return
        script = self.spec.get("script")
        if not isinstance(script, str):
            raise _bad_job("the spec names neither a script nor a module")
        check_script_path(self.snapshot, script)

    def stage(self, snapshot: Path) -> None:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.rename(snapshot)
        stage_input_files(self.input_files, snapshot)

    def bound(self, ws: OpenWorkspace) -> tuple[UploadedJob, dict[str, DataReference]]:
        """The job with its `@latest` inputs bound now (a pipeline's pinned in its config),
        and the data versions they read."""
        if self.spec.get("module") == PIPELINE_MODULE:
            pin_driver_config(ws, self.snapshot)
        if not self.inputs:
            return self, {}
        arguments = tuple(self.spec["arguments"])
        bound = bind_inputs(ws, self.inputs, arguments, self.compute_target)
        spec = {**self.spec, "arguments": list(bound.arguments)}
        return replace(self, spec=spec, inputs={}, input_files=bound.files), bound.data_inputs

    def to_spec(self) -> dict[str, Any]:
        return {**self.spec, "compute_target": self.compute_target}

    def describe_source(self) -> RunSource:
        return self.source


@dataclass(frozen=True)
class ReceivedJob:
    """An archive's job, unpacked and read: the data versions it reads (each found here), and
    its whole `job.json` (where a schedule sent with it has its fields)."""

    job: UploadedJob
    data_inputs: dict[str, DataReference]
    description: dict[str, Any]


def submit_uploaded(ws: OpenWorkspace, archive: IO[bytes], user: str) -> Run:
    """Unpack and check the archive, then submit its job; nothing is left behind if it fails."""
    with received_job(ws, archive) as received:
        job, read = received.job.bound(ws)
        return submit(ws, job, user=user, data_inputs={**received.data_inputs, **read})


@contextmanager
def received_job(ws: OpenWorkspace, archive: IO[bytes]) -> Iterator[ReceivedJob]:
    """The archive checked whole and unpacked into the cache's staging folder for the block
    (removed afterwards, unless a submit moved the snapshot into its run)."""
    unpacked = ws.cache_dir / "staging" / f"upload-{uuid.uuid4().hex}"
    try:
        description = unpack(archive, unpacked / "snapshot", ARCHIVE)
        job = UploadedJob(
            experiment=_required_string(description.get("experiment"), "experiment"),
            compute_target=str(description.get("compute_target") or "local"),
            display_name=_optional_string(description.get("display_name"), "display_name"),
            spec=_mapping(description.get("spec"), "spec"),
            source=RunSource.from_dict(_mapping(description.get("source") or {}, "source")),
            snapshot=unpacked / "snapshot",
            inputs=_latest_inputs(ws, _mapping(description.get("inputs") or {}, "inputs")),
        )
        read = _data_inputs(ws, _mapping(description.get("data_inputs") or {}, "data_inputs"))
        yield ReceivedJob(job, read, description)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def _data_inputs(ws: OpenWorkspace, named: dict[str, Any]) -> dict[str, DataReference]:
    """The data asset versions the job reads, each checked to exist here."""
    read = {}
    for name, reference in named.items():
        version = data.get_data_version(ws, _reference(name, reference, "data_inputs"))
        read[str(name)] = DataReference(version.name, version.version)
    return read


def _latest_inputs(ws: OpenWorkspace, named: dict[str, Any]) -> dict[str, str]:
    """The `@latest` data references left for the server to bind, each checked to exist here:
    only those (a path would name a file on the server's disk, a literal is bound already)."""
    for name, reference in named.items():
        text = _reference(name, reference, "inputs")
        if not is_data_reference(text) or parse_data_reference(text).version is not None:
            raise _bad_job(f"inputs.{name} is {text[:80]!r}, not a reference like data:x@latest")
        data.get_data_version(ws, text)
    return dict(named)


def _reference(name: str, reference: Any, where: str) -> str:
    if not INPUT_NAME.fullmatch(name):  # it becomes a column of 255 characters at most
        raise _bad_job(f"data input name {name[:80]!r} is not a name like training_data")
    return _required_string(reference, f"{where}.{name}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad_job(f"{where} is {type(value).__name__}, not an object")
    return value


def _required_string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad_job(f"{where} is {value!r}, not a string")
    return value


def _optional_string(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _bad_job(f"{where} is {value!r}, not a string")
    return value
