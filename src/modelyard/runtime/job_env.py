"""The environment variables a job runs with: how code inside it finds its run.

A job beside its workspace gets the workspace's folder; a job on another machine (a Ray
cluster) gets the workspace server's URL and a token scoped to its run instead, and reports
over REST: nothing assumes a shared disk.
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_ID_ENV = "MODELYARD_RUN_ID"
WORKSPACE_PATH_ENV = "MODELYARD_WORKSPACE_PATH"
# A job away from the workspace's disk: the server that serves it, and the job's token (the
# variable every client reads its token from, services/auth.py's TOKEN_ENV).
SERVER_URL_ENV = "MODELYARD_SERVER_URL"
TOKEN_ENV = "MODELYARD_TOKEN"
# Where a job keeps checkpoints: outside its working folder, so a requeued run finds them.
CHECKPOINT_DIR_ENV = "MODELYARD_CHECKPOINT_DIR"
# Where a job says why it failed, in its own words (runtime/job_error.py).
ERROR_FILE_ENV = "MODELYARD_ERROR_FILE"
# Which attempt of the run this is: 1, then one more each time the run is requeued after a
# preemption (runtime/preemption.py).
ATTEMPT_ENV = "MODELYARD_ATTEMPT"


def job_environment(
    workspace_root: Path,
    run_id: str,
    python: Path | None = None,
    checkpoint_dir: Path | None = None,
    error_file: Path | None = None,
    attempt: int | None = None,
) -> dict[str, str]:
    environment = _environment(run_id, python, checkpoint_dir, error_file, attempt)
    environment[WORKSPACE_PATH_ENV] = str(workspace_root)
    return environment


def remote_job_environment(
    server_url: str,
    token: str,
    run_id: str,
    python: Path | None = None,
    checkpoint_dir: Path | None = None,
    error_file: Path | None = None,
    attempt: int | None = None,
) -> dict[str, str]:
    """For a job that reaches its workspace through `server_url` with its run's `token`."""
    environment = _environment(run_id, python, checkpoint_dir, error_file, attempt)
    environment.pop(WORKSPACE_PATH_ENV, None)  # the server's word, never a folder from elsewhere
    environment.update({SERVER_URL_ENV: server_url, TOKEN_ENV: token})
    return environment


def job_location() -> str | None:
    """Inside a job, where its workspace is: a folder, or a server's URL; None outside a job."""
    return os.environ.get(WORKSPACE_PATH_ENV) or os.environ.get(SERVER_URL_ENV) or None


def _environment(
    run_id: str,
    python: Path | None,
    checkpoint_dir: Path | None,
    error_file: Path | None,
    attempt: int | None,
) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update({RUN_ID_ENV: run_id, "PYTHONUNBUFFERED": "1"})
    if checkpoint_dir is not None:
        environment[CHECKPOINT_DIR_ENV] = str(checkpoint_dir)
    if error_file is not None:
        environment[ERROR_FILE_ENV] = str(error_file)
    if attempt is not None:
        environment[ATTEMPT_ENV] = str(attempt)
    # The job picks its own interpreter; a host virtualenv must not leak into it.
    environment.pop("PYTHONHOME", None)
    if python is not None:
        # Tools the environment installed (console scripts) come first on PATH, as in an
        # activated virtualenv.
        environment["PATH"] = os.pathsep.join([str(python.parent), environment.get("PATH", "")])
    return environment
