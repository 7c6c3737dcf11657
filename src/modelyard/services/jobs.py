"""Script jobs (Azure ML's ScriptRunConfig): validate, snapshot the code, queue, launch, follow."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from modelyard.compute import backend_for
from modelyard.entities import (
    Run,
    RunSource,
    RunStatus,
    validate_compute_name,
    validate_experiment_name,
)
from modelyard.entities.compute import ComputeTarget, ProvisioningState
from modelyard.entities.data import DataReference, RunInput
from modelyard.environments import Environment
from modelyard.errors import (
    ComputeErrored,
    ComputeUnavailable,
    Conflict,
    InvalidValue,
    NotFound,
)
from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.services import scheduling
from modelyard.services.job_archive import packed_job
from modelyard.services.job_inputs import (
    InputValue,
    bind_inputs,
    latest_references,
    stage_input_files,
)
from modelyard.services.run_files import JOB_SPEC, OUTPUTS_FOLDER, STD_LOG
from modelyard.services.runs import get_run, reap_dead_runs
from modelyard.services.snapshot import take_snapshot
from modelyard.services.workspaces import OpenWorkspace


class Job(Protocol):
    """Anything `submit` can queue: a user's script or a built-in job such as a trainer."""

    @property
    def experiment(self) -> str: ...
    @property
    def compute_target(self) -> str: ...
    @property
    def display_name(self) -> str | None: ...
    def validate(self) -> None: ...
    def stage(self, snapshot: Path) -> None:
        """Write what the job reads into `snapshot` (a new folder), which becomes its code."""
        ...

    def to_spec(self) -> dict[str, Any]: ...
    def describe_source(self) -> RunSource: ...


@dataclass(frozen=True)
class ScriptJob:
    """A script, its arguments, its environment and where to run it; `inputs` (data asset
    references, local paths, literals) are bound into the arguments' `${{inputs.NAME}}` when
    it is submitted, and `input_files` are what then goes into its snapshot with the code."""

    experiment: str
    source_directory: Path
    script: str
    arguments: tuple[str, ...] = ()
    compute_target: str = "local"
    environment: Environment = field(default_factory=Environment.default)
    display_name: str | None = None
    inputs: Mapping[str, InputValue] = field(default_factory=dict)
    input_files: Mapping[str, Path] = field(default_factory=dict)
    # Folders made in `outputs/` before the script starts: what `${{outputs.NAME}}` names in
    # a pipeline step's command or a component trial's, which the script writes into.
    output_folders: tuple[str, ...] = ()

    def validate(self) -> None:
        validate_experiment_name(self.experiment)
        if not self.source_directory.is_dir():
            raise NotFound(
                f"source directory {str(self.source_directory)!r} does not exist:"
                " pass the folder that holds your script",
                path=str(self.source_directory),
            )
        check_script_path(self.source_directory, self.script)
        validate_compute_name(self.compute_target)

    def stage(self, snapshot: Path) -> None:
        take_snapshot(self.source_directory, snapshot)
        stage_input_files(self.input_files, snapshot)
        for name in self.output_folders:
            (snapshot / OUTPUTS_FOLDER / name).mkdir(parents=True, exist_ok=True)

    def bound(
        self, ws: OpenWorkspace, keep_latest: bool = False
    ) -> tuple[ScriptJob, dict[str, DataReference]]:
        """The job with its inputs written into its arguments, and the data versions read.
        `keep_latest`: its `@latest` data inputs stay its `inputs`, for a server to bind."""
        if not self.inputs:
            return self, {}
        late = latest_references(ws, self.inputs) if keep_latest else {}
        now = {name: value for name, value in self.inputs.items() if name not in late}
        bound = bind_inputs(ws, now, self.arguments, self.compute_target, unbound=late.keys())
        files = {**self.input_files, **bound.files}
        job = replace(self, arguments=bound.arguments, inputs=late, input_files=files)
        return job, bound.data_inputs

    def to_spec(self) -> dict[str, Any]:
        return {
            "script": self.script,
            "arguments": list(self.arguments),
            "compute_target": self.compute_target,
            "environment": self.environment.to_dict(),
        }

    def describe_source(self) -> RunSource:
        commit = _git(self.source_directory, "rev-parse", "HEAD")
        dirty = None
        if commit is not None:
            dirty = bool(_git(self.source_directory, "status", "--porcelain"))
        return RunSource(
            script=self.script,
            arguments=self.arguments,
            git_commit=commit,
            git_dirty=dirty,
            git_repository=_git(self.source_directory, "remote", "get-url", "origin"),
        )


@dataclass(frozen=True)
class ModuleJob:
    """A built-in job: `python -m module arguments…`, with `files` written into its snapshot,
    `folders` copied into it (as code snapshots are: ignore files, links and limits) and
    `input_files` (data) copied exactly, as a script job's are."""

    experiment: str
    module: str
    arguments: tuple[str, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)
    folders: Mapping[str, Path] = field(default_factory=dict)
    input_files: Mapping[str, Path] = field(default_factory=dict)
    compute_target: str = "local"
    environment: Environment = field(default_factory=Environment.default)
    display_name: str | None = None
    # What the user ran, as the run's source shows it ("image classification (built-in)" and
    # its options), instead of the module and the arguments it is launched with.
    source: RunSource | None = None

    def validate(self) -> None:
        validate_experiment_name(self.experiment)
        validate_compute_name(self.compute_target)

    def stage(self, snapshot: Path) -> None:
        snapshot.mkdir(parents=True)
        for name, data in self.files.items():
            write_bytes_atomic(snapshot / name, data)
        for name, folder in self.folders.items():
            take_snapshot(folder, snapshot / name)
        stage_input_files(self.input_files, snapshot)

    def to_spec(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "arguments": list(self.arguments),
            "compute_target": self.compute_target,
            "environment": self.environment.to_dict(),
        }

    def describe_source(self) -> RunSource:
        return self.source or RunSource(script=f"-m {self.module}", arguments=self.arguments)


def check_script_path(source_directory: Path, script: str) -> None:
    relative = PurePosixPath(script)
    if relative.is_absolute() or ".." in relative.parts or "\\" in script:
        raise InvalidValue(
            f"script {script!r} must be a path inside the source directory, like 'train.py'",
            script=script,
        )
    if not (source_directory / relative).is_file():
        raise NotFound(
            f"script {script!r} not found in source directory {str(source_directory)!r}:"
            " check --script and --source-dir",
            script=script,
        )


def submit(
    ws: OpenWorkspace,
    job: Job,
    user: str | None = None,
    *,
    parent_id: str | None = None,
    params: Mapping[str, str] | None = None,
    properties: Mapping[str, str] | None = None,
    data_inputs: Mapping[str, DataReference] | None = None,
) -> Run:
    """Queue the job as a new run on its compute and run a scheduling pass, which launches it
    when the compute has room; nothing is created if the job is invalid or can never run there.
    The data asset versions it reads (`data_inputs`, and a script job's own `inputs`) are
    recorded with the run.

    `parent_id`, `params` and `properties` make it a child run (a sweep's trial) whose params
    and properties are recorded before it is queued: whoever finds it queued knows what it runs.
    In a workspace behind a server, the job is packed and sent there, and runs on its compute.
    """
    if ws.server_url is not None:
        if parent_id is not None or params or properties:
            raise InvalidValue(
                "child jobs are submitted on the workspace's own machine (a sweep's driver does"
                " it there), not through its server",
            )
        with packed_for_server(ws, job, data_inputs=data_inputs) as archive:
            return ws.rest_store.submit_job(archive)
    job, read = _prepared(ws, job, data_inputs)
    check_compute_takes_jobs(ws, job.compute_target)
    staging = ws.cache_dir / "staging" / uuid.uuid4().hex
    try:
        job.stage(staging)
        run = ws.store.create_run(
            job.experiment,
            user=user or getpass.getuser(),
            display_name=job.display_name,
            source=job.describe_source(),
            parent_id=parent_id,
            compute_target=job.compute_target,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        if read:
            inputs = [
                RunInput(run.id, name, ref.name, ref.version or 0) for name, ref in read.items()
            ]
            ws.data_store.record_run_inputs(run.id, inputs)
        if params:
            ws.store.log_batch(run.id, params=params)
        if properties:
            ws.store.add_properties(run.id, properties)
        run_root = ws.local_artifacts.run_root(run.id)
        run_root.mkdir(parents=True, exist_ok=True)
        staging.rename(run_root / "snapshot")
        write_json_atomic(run_root / JOB_SPEC, job.to_spec())
        ws.store.transition_run(run.id, RunStatus.QUEUED)
        scheduling.schedule_pass(ws)
        return ws.store.get_run(run.id)
    except BaseException as error:
        # The run exists by now: record why it never started rather than leave it NotStarted.
        shutil.rmtree(staging, ignore_errors=True)
        ws.store.transition_run(run.id, RunStatus.FAILED, error=f"submission failed: {error}")
        raise


def _prepared(
    ws: OpenWorkspace,
    job: Job,
    data_inputs: Mapping[str, DataReference] | None,
    keep_latest: bool = False,
) -> tuple[Job, dict[str, DataReference]]:
    """The job validated, a script job's inputs bound; and every data version it reads."""
    job.validate()
    if isinstance(job, ScriptJob):
        job, own_inputs = job.bound(ws, keep_latest)
        data_inputs = {**own_inputs, **(data_inputs or {})}
    return job, dict(data_inputs or {})


@contextmanager
def packed_for_server(
    ws: OpenWorkspace,
    job: Job,
    *,
    data_inputs: Mapping[str, DataReference] | None = None,
    extra: Mapping[str, Any] | None = None,
    keep_latest: bool = False,
) -> Iterator[Path]:
    """The job as a workspace behind a server sends it (`job_upload` is the server's end):
    validated, its inputs bound (their files go into its snapshot), packed as one temporary
    archive, deleted when the block ends. `extra`: more fields for its `job.json` (a
    schedule's, `services/schedule_jobs.py`); `keep_latest`: its `@latest` data inputs left
    for the server to bind when it submits the job (a schedule's, at each fire)."""
    job, read = _prepared(ws, job, data_inputs, keep_latest)
    with packed_job({**_describe(job, read), **(extra or {})}, job.stage) as archive:
        yield archive


def _describe(job: Job, read: Mapping[str, DataReference]) -> dict[str, Any]:
    """The job's `job.json` in the archive sent to a server."""
    return {
        "experiment": job.experiment,
        "compute_target": job.compute_target,
        "display_name": job.display_name,
        "spec": job.to_spec(),
        "source": job.describe_source().to_dict(),
        "data_inputs": {name: str(reference) for name, reference in read.items()},
        # Left unbound by `keep_latest`: the server binds them (`job_upload.UploadedJob.bound`).
        "inputs": {name: str(v) for name, v in job.inputs.items()}
        if isinstance(job, ScriptJob)
        else {},
    }


def check_compute_takes_jobs(ws: OpenWorkspace, name: str) -> None:
    """Refuse, before anything is created, a job for a compute that is unknown or Failed, or
    whose size its host or cluster can no longer hold (it would wait in the queue for ever)."""
    compute = ws.compute_store.get_compute(name)
    _check_size_still_fits(compute)
    if compute.state is ProvisioningState.FAILED:
        cause = compute.errors[-1] if compute.errors else "provisioning failed"
        raise ComputeErrored(
            f"compute {name} is in a failed state ({cause}): submit to another compute, or"
            f" `modelyard compute delete {name}` and create it again",
            compute=name,
        )
    if compute.state is ProvisioningState.DELETING:
        raise Conflict(f"compute {name} is being deleted: submit to another compute", compute=name)


def _check_size_still_fits(compute: ComputeTarget) -> None:
    size = compute.size_spec
    if size is None or compute.state is not ProvisioningState.SUCCEEDED:
        return
    try:
        lacking = backend_for(compute).capacity().lacks(size)
    except ComputeUnavailable:
        return  # it may answer again: the run waits in the queue, saying why
    if lacking:
        raise ComputeUnavailable(
            f"compute {compute.name}'s size {size.name} no longer fits where it runs, which"
            f" lacks {', '.join(lacking)}: submit to a compute of a smaller size",
            compute=compute.name,
        )


def read_job_spec(ws: OpenWorkspace, run_id: str) -> dict[str, Any]:
    path = ws.local_artifacts.run_root(run_id) / JOB_SPEC
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as error:
        raise NotFound(
            f"run {run_id} has no readable job definition ({error}): it was not submitted as a job",
            run_id=run_id,
        ) from error


def _git(folder: Path, *arguments: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *arguments],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


# Following a run -------------------------------------------------------------------------------


def follow_log(
    ws: OpenWorkspace,
    run_id: str,
    *,
    follow: bool = True,
    path: str = STD_LOG,
    on_tick: Callable[[Run], None] | None = None,
) -> Iterator[str]:
    """Yield the run's log as it grows; stop once the run has ended and the log is drained."""
    if ws.server_url is not None:
        yield from _follow_on_server(ws, run_id, follow=follow, path=path, on_tick=on_tick)
        return
    log_file = ws.local_artifacts.run_root(run_id) / path
    position = 0
    while True:
        run = get_run(ws, run_id)
        chunk, position = read_text_from(log_file, position)
        if chunk:
            yield chunk
        if on_tick is not None:
            on_tick(run)
        if not follow or run.status.is_terminal:
            rest, position = read_text_from(log_file, position)
            if rest:
                yield rest
            return
        time.sleep(ws.settings.poll_interval_s)


def _follow_on_server(
    ws: OpenWorkspace,
    run_id: str,
    *,
    follow: bool,
    path: str,
    on_tick: Callable[[Run], None] | None,
) -> Iterator[str]:
    server = ws.rest_store
    chunks = server.follow_log(run_id, path) if follow else iter([server.read_log(run_id, path)])
    for chunk in chunks:
        yield chunk
        if on_tick is not None:
            on_tick(get_run(ws, run_id))
    if on_tick is not None:
        on_tick(get_run(ws, run_id))


def read_log(
    ws: OpenWorkspace, run_id: str, path: str, offset: int, max_bytes: int
) -> tuple[str, int]:
    """A run's log (any text artifact) from `offset`, at most `max_bytes`; and the next offset."""
    ws.store.get_run(run_id)  # NotFound for an unknown run
    return read_text_from(log_file_of(ws, run_id, path), offset, max_bytes)


def log_file_of(ws: OpenWorkspace, run_id: str, path: str) -> Path:
    """Where run `run_id` keeps its log `path` (it may not exist yet); refused if a folder."""
    log_file = ws.local_artifacts.local_path(run_id, path)
    if log_file.is_dir():
        raise InvalidValue(
            f"{path!r} in run {run_id} is a folder, not a log: name a file in it, like {STD_LOG!r}",
            run_id=run_id,
            path=path,
        )
    return log_file


def read_text_from(log_file: Path, position: int, max_bytes: int = -1) -> tuple[str, int]:
    """UTF-8 text of `log_file` from byte `position` (none while it is missing); next offset."""
    try:
        with open(log_file, "rb") as handle:
            if position >= os.fstat(handle.fileno()).st_size:
                # Nothing there yet; and a seek past the file system's largest file (16 TiB on
                # ext4, well within the API's offset limit) is EINVAL, not an empty read.
                return "", position
            handle.seek(position)
            # Up to 3 bytes more than asked, to finish a UTF-8 character the limit would cut.
            data = handle.read(max_bytes + 3 if max_bytes >= 0 else -1)
    except (FileNotFoundError, IsADirectoryError):  # not written yet, or never a log
        return "", position
    if 0 <= max_bytes < len(data):
        data = data[: _cut_at_character(data, max_bytes)]
    return data.decode("utf-8", errors="replace"), position + len(data)


def _cut_at_character(data: bytes, limit: int) -> int:
    """The largest cut ≤ `limit` between two UTF-8 characters (one whole one at the least)."""
    for cut in range(limit, max(limit - 4, 0), -1):
        if data[cut] & 0b1100_0000 != 0b1000_0000:  # data[cut] starts a character
            return cut
    first = next((i for i in range(1, 4) if i >= len(data) or data[i] & 0xC0 != 0x80), 4)
    return min(first, len(data))


def wait_for_completion(ws: OpenWorkspace, run_id: str, timeout_s: float | None = None) -> Run:
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        reap_dead_runs(ws)
        run = ws.store.get_run(run_id)
        if run.status.is_terminal:
            return run
        if deadline is not None and time.monotonic() > deadline:
            return run
        time.sleep(ws.settings.poll_interval_s)
