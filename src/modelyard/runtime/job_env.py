"""The environment variables a job runs with: how code inside it finds its run."""

from __future__ import annotations

import os
from pathlib import Path

RUN_ID_ENV = "MODELYARD_RUN_ID"
WORKSPACE_PATH_ENV = "MODELYARD_WORKSPACE_PATH"
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
    environment = dict(os.environ)
    environment.update(
        {
            RUN_ID_ENV: run_id,
            WORKSPACE_PATH_ENV: str(workspace_root),
            "PYTHONUNBUFFERED": "1",
        }
    )
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
