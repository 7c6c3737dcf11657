"""What a run becomes on Ray, checked without a cluster: the job's id, entrypoint, runtime_env
(the code snapshot, the server and the run's token, the environment's pip packages) and the size
as entrypoint resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.compute import BackendState, LaunchRequest, ReportingAccess
from modelyard.compute.ray.submission import (
    STATES,
    check_submission_id,
    entrypoint_resources,
    submission_for,
)
from modelyard.entities.compute import find_size
from modelyard.environments import Environment
from modelyard.errors import InvalidValue, NotFound
from modelyard.fileio import write_json_atomic

RUN_ID = "0123456789abcdef0123456789abcdef"
ACCESS = ReportingAccess(server_url="http://10.0.0.5:8765", token="myd_abc_secret")


def _request(root: Path, **options: object) -> LaunchRequest:
    return LaunchRequest(
        run_id=RUN_ID,
        workspace_root=root,
        log_path=root / "supervisor.log",
        **options,  # type: ignore[arg-type]
    )


def _submitted_job(root: Path, environment: Environment) -> None:
    run_root = root / "artifacts" / RUN_ID
    (run_root / "snapshot").mkdir(parents=True)
    spec = {"script": "train.py", "arguments": [], "environment": environment.to_dict()}
    write_json_atomic(run_root / "system" / "job.json", spec)


def test_a_run_is_its_snapshot_its_supervisor_and_its_reporting_access(tmp_path: Path) -> None:
    _submitted_job(tmp_path, Environment.default())
    request = _request(
        tmp_path, attempt=2, reporting=ACCESS, environment={"RAY_JOB_STOP_WAIT_TIME_S": "5"}
    )
    submission = submission_for(request)
    assert submission.submission_id == f"modelyard-{RUN_ID}-a2"
    assert check_submission_id(submission.submission_id) == submission.submission_id
    assert submission.entrypoint == (
        f"python -m modelyard.runtime.remote_supervisor --run-id {RUN_ID}"
    )
    assert submission.runtime_env == {
        "working_dir": str(tmp_path / "artifacts" / RUN_ID / "snapshot"),
        "env_vars": {
            "RAY_JOB_STOP_WAIT_TIME_S": "5",
            "PYTHONUNBUFFERED": "1",
            "MODELYARD_SERVER_URL": ACCESS.server_url,
            "MODELYARD_TOKEN": ACCESS.token,
        },
    }
    assert submission.resources == {}  # no compute, no size: nothing asked


def test_the_environments_pip_packages_are_installed_by_ray(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tqdm==4.66.1\n# a comment\nrequests>=2\n")
    _submitted_job(tmp_path, Environment.from_pip_requirements("mine", requirements))
    submission = submission_for(_request(tmp_path, reporting=ACCESS))
    assert submission.runtime_env["pip"] == ["tqdm==4.66.1", "requests>=2"]


def test_a_size_becomes_entrypoint_resources() -> None:
    assert entrypoint_resources(find_size("Standard_DS2_v2")) == {
        "entrypoint_num_cpus": 2,
        "entrypoint_memory": 7 * 2**30,
    }
    assert entrypoint_resources(find_size("Standard_NC12")) == {
        "entrypoint_num_cpus": 12,
        "entrypoint_memory": 112 * 2**30,
        "entrypoint_num_gpus": 2,
    }


def test_without_a_server_or_a_snapshot_nothing_is_submitted(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="workspace server"):
        submission_for(_request(tmp_path))
    with pytest.raises(NotFound, match="no code snapshot"):
        submission_for(_request(tmp_path, reporting=ACCESS))


def test_every_ray_status_has_a_backend_state() -> None:
    ray_statuses = {"PENDING", "RUNNING", "STOPPED", "SUCCEEDED", "FAILED"}
    assert set(STATES) == ray_statuses
    assert STATES["STOPPED"] is BackendState.STOPPED
    job_submission = pytest.importorskip("ray.job_submission", reason="no 'ray' extra")
    assert {status.value for status in job_submission.JobStatus} == ray_statuses


def test_a_handle_that_is_not_ours_is_refused() -> None:
    with pytest.raises(InvalidValue, match="not a Modelyard submission id"):
        check_submission_id("raysubmit_../../etc")
