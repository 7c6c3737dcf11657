"""What a run becomes on Ray: its submission id, entrypoint, runtime_env and entrypoint
resources. Plain values, built without Ray, so they can be checked without a cluster."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.compute.base import BackendState, LaunchRequest
from modelyard.entities.compute import ComputeSize
from modelyard.errors import InvalidValue, NotFound

# The workspace's layout as `services.jobs.submit` writes it (compute/ sits below services and
# store, so it names the two paths here): artifacts/<run>/snapshot and artifacts/<run>/system.
SNAPSHOT_FOLDER = "snapshot"
JOB_SPEC = "system/job.json"
SERVER_URL_ENV = "MODELYARD_SERVER_URL"  # runtime/job_env.py's names, which the job reads
TOKEN_ENV = "MODELYARD_TOKEN"
# How long Ray waits after its SIGTERM before it SIGKILLs a stopped job (its default is 3 s):
# long enough for the supervisor to upload checkpoints and record the end. A launch request's
# `environment` may set it.
STOP_WAIT_ENV = "RAY_JOB_STOP_WAIT_TIME_S"
DEFAULT_STOP_WAIT_S = 30
SUBMISSION_PREFIX = "modelyard-"

# Ray's JobStatus, by value, onto what a backend says.
STATES: dict[str, BackendState] = {
    "PENDING": BackendState.PENDING,
    "RUNNING": BackendState.RUNNING,
    "SUCCEEDED": BackendState.SUCCEEDED,
    "FAILED": BackendState.FAILED,
    "STOPPED": BackendState.STOPPED,
}

_SUBMISSION_ID = re.compile(r"modelyard-[A-Za-z0-9_-]{1,128}-a[0-9]{1,6}")


@dataclass(frozen=True)
class Submission:
    """The arguments of `JobSubmissionClient.submit_job` for one attempt of one run."""

    submission_id: str
    entrypoint: str
    runtime_env: dict[str, Any]
    resources: dict[str, Any] = field(default_factory=dict)

    def arguments(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "entrypoint": self.entrypoint,
            "runtime_env": self.runtime_env,
            "metadata": {"modelyard_submission": self.submission_id},
            **self.resources,
        }


def submission_for(request: LaunchRequest) -> Submission:
    """The Ray job of `request`: the run's snapshot as working_dir, the remote supervisor as
    entrypoint, the server and the run's token as variables, the size as resources."""
    if request.reporting is None:
        raise InvalidValue(
            f"run {request.run_id} cannot go to a Ray cluster without a way to report: a job"
            " on Ray reports through the workspace server; serve the workspace"
            " (`modelyard server`) and launch with its URL and a run token",
            run_id=request.run_id,
        )
    run_folder = request.workspace_root / "artifacts" / request.run_id
    snapshot = run_folder / SNAPSHOT_FOLDER
    if not snapshot.is_dir():
        raise NotFound(
            f"run {request.run_id} has no code snapshot at {snapshot}: it was not submitted as a"
            " job; submit it with `modelyard job submit`",
            run_id=request.run_id,
        )
    env_vars = {
        STOP_WAIT_ENV: str(DEFAULT_STOP_WAIT_S),
        "PYTHONUNBUFFERED": "1",
        **request.environment,
        SERVER_URL_ENV: request.reporting.server_url,
        TOKEN_ENV: request.reporting.token,
    }
    runtime_env: dict[str, Any] = {"working_dir": str(snapshot), "env_vars": env_vars}
    packages = pip_packages(run_folder / JOB_SPEC)
    if packages:
        runtime_env["pip"] = packages
    return Submission(
        submission_id=submission_id(request.run_id, request.attempt),
        entrypoint=entrypoint(request.run_id),
        runtime_env=runtime_env,
        resources=entrypoint_resources(request.size),
    )


def submission_id(run_id: str, attempt: int) -> str:
    """One Ray job per attempt: a requeued run is a new submission, and a launch repeated for
    the same attempt (a scheduler killed mid-pass) finds the job it already submitted."""
    return f"{SUBMISSION_PREFIX}{run_id}-a{attempt}"


def check_submission_id(handle: str) -> str:
    if not _SUBMISSION_ID.fullmatch(handle):
        raise InvalidValue(
            f"Ray handle {handle!r} is not a Modelyard submission id like"
            " modelyard-RUN-a1: pass the handle the ray backend returned at launch",
            handle=handle,
        )
    return handle


def entrypoint(run_id: str) -> str:
    """`python` is the cluster's (or the venv Ray made for the job's pip packages), which has
    Modelyard installed: Ray puts that interpreter first on the entrypoint's PATH."""
    return f"python -m modelyard.runtime.remote_supervisor --run-id {shlex.quote(run_id)}"


def entrypoint_resources(size: ComputeSize | None) -> dict[str, Any]:
    """The size's CPUs, GPUs and memory as Ray's entrypoint resources (the job's one node
    must have them all); a compute without a size asks for nothing."""
    if size is None:
        return {}
    resources: dict[str, Any] = {
        "entrypoint_num_cpus": size.vcpus,
        "entrypoint_memory": int(size.memory_gib * 2**30),
    }
    if size.gpus:
        resources["entrypoint_num_gpus"] = size.gpus
    return resources


def pip_packages(job_spec: Path) -> list[str]:
    """The pip requirements of the job's environment (`environments/spec.py`'s
    `pip_requirements`), for Ray to install on top of the cluster's Python; none for the
    default environment."""
    try:
        spec = json.loads(job_spec.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise InvalidValue(
            f"the job definition {job_spec} cannot be read ({error}): submit the job again",
            path=str(job_spec),
        ) from None
    environment = spec.get("environment") if isinstance(spec, dict) else None
    requirements = environment.get("pip_requirements") if isinstance(environment, dict) else None
    return [str(line) for line in requirements or ()]
