"""The ray backend against a real Ray head (one per session, `conftest.py`) and a real workspace
server: runs launched as Ray jobs report over REST with their run's token, and end as their
scripts do; cancel stops them; a cluster that does not answer is one line."""

from __future__ import annotations

import socket
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compute.conftest import RayHead
from modelyard.compute import (
    BackendState,
    ComputeBackend,
    LaunchRequest,
    ReportingAccess,
    backend_for,
)
from modelyard.compute.ray import RayCompute
from modelyard.entities import Role, Run, RunStatus
from modelyard.entities.compute import ComputeTarget, ComputeType, Priority, ProvisioningState
from modelyard.errors import ComputeUnavailable
from modelyard.fileio import write_json_atomic
from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import JOB_SPEC, SUPERVISOR_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

RUN_DEADLINE_S = 240  # a noisy machine: Ray's job start plus two Python start-ups, generously
USER = "ana"

REPORTING_SCRIPT = """\
import sys
from pathlib import Path

from modelyard import Run
from modelyard.errors import PermissionDenied

run = Run.get_context(allow_offline=False)
for step in range(5):
    run.log("loss", 1.0 / (step + 1), step=step)
run.flush()
Path("outputs/result.txt").write_text("trained on ray")
print("hello from ray, workspace", run.experiment.workspace.name, flush=True)
try:
    run.experiment.workspace.experiments
except PermissionDenied as error:
    print("refused outside its run:", error.code, flush=True)
"""

FAILING_SCRIPT = """\
from modelyard import Run

Run.get_context(allow_offline=False).log("loss", 0.5)
raise ValueError("the labels file has 3 columns, expected 2")
"""

SLEEPING_SCRIPT = """\
import time

print("started", flush=True)
for _ in range(600):
    time.sleep(0.5)
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[OpenWorkspace, str]]:
    """A workspace behind a real server on 127.0.0.1, with a contributor whose runs go to Ray."""
    ws = create_workspace("ray-ws", path=tmp_path / "ws")
    auth.ensure_admin(ws)
    auth.create_user(ws, USER, Role.CONTRIBUTOR)
    try:
        with serve(create_app(ws)) as url:
            yield ws, url
    finally:
        ws.close()


@pytest.fixture
def ray_compute(ray_head: RayHead) -> ComputeTarget:
    return _ray_target(ray_head.address)


def test_a_script_job_runs_on_ray_and_reports_through_the_server(
    served: tuple[OpenWorkspace, str], ray_compute: ComputeTarget, tmp_path: Path
) -> None:
    ws, url = served
    run = _queued_run(ws, tmp_path, REPORTING_SCRIPT)
    backend = backend_for(ray_compute)
    request = _launch_request(ws, url, run, ray_compute)
    handle = backend.launch(request)
    assert backend.launch(request) == handle  # the same attempt again: the same Ray job

    ended = _wait_for_end(ws, run.id)
    assert ended.status is RunStatus.COMPLETED, ended.error
    assert ended.started_at is not None and ended.heartbeat_at is not None
    points = ws.store.get_metric_history(run.id, "loss")
    assert [(point.step, point.value) for point in points] == [
        (step, 1.0 / (step + 1)) for step in range(5)
    ]
    copied = ws.local_artifacts.local_path(run.id, "outputs/result.txt")
    assert copied.read_text() == "trained on ray"
    assert _wait_for_backend_end(backend, handle) is BackendState.SUCCEEDED
    log = backend.read_log(handle) or ""
    assert "hello from ray, workspace ray-ws" in log
    # Its token reaches its own run and nothing else of the workspace.
    assert "refused outside its run: PERMISSION_DENIED" in log


def test_a_failing_script_ends_failed_with_its_reason(
    served: tuple[OpenWorkspace, str], ray_compute: ComputeTarget, tmp_path: Path
) -> None:
    ws, url = served
    run = _queued_run(ws, tmp_path, FAILING_SCRIPT)
    backend = backend_for(ray_compute)
    handle = backend.launch(_launch_request(ws, url, run, ray_compute))

    ended = _wait_for_end(ws, run.id)
    assert ended.status is RunStatus.FAILED
    assert ended.error is not None
    assert "ValueError: the labels file has 3 columns, expected 2" in ended.error
    assert ws.store.get_run_data(run.id).latest_metrics == {"loss": 0.5}
    # Ray says the same, and keeps the traceback in the job's log.
    assert _wait_for_backend_end(backend, handle) is BackendState.FAILED
    assert "Traceback" in (backend.read_log(handle) or "")


def test_cancel_stops_the_job_and_the_run_ends_canceled(
    served: tuple[OpenWorkspace, str], ray_compute: ComputeTarget, tmp_path: Path
) -> None:
    ws, url = served
    run = _queued_run(ws, tmp_path, SLEEPING_SCRIPT)
    backend = backend_for(ray_compute)
    handle = backend.launch(_launch_request(ws, url, run, ray_compute))
    _wait_for(lambda: "started" in (backend.read_log(handle) or ""), "the script to start")
    assert ws.store.get_run(run.id).status is RunStatus.RUNNING

    ws.store.transition_run(run.id, RunStatus.CANCEL_REQUESTED)  # as services' cancel does
    assert backend.cancel(handle, grace_s=120)

    assert backend.state(handle) is BackendState.STOPPED
    assert _wait_for_end(ws, run.id).status is RunStatus.CANCELED


def test_a_job_that_cannot_reach_its_server_fails_on_ray_with_the_reason(
    served: tuple[OpenWorkspace, str], ray_compute: ComputeTarget, tmp_path: Path
) -> None:
    """What the scheduler reads when a run's supervisor never recorded an end."""
    ws, _ = served
    run = _queued_run(ws, tmp_path, REPORTING_SCRIPT)
    backend = RayCompute(ray_compute)
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    handle = backend.launch(_launch_request(ws, nowhere, run, ray_compute))

    assert _wait_for_backend_end(backend, handle) is BackendState.FAILED
    reason = backend.ended_reason(handle) or ""
    assert "modelyard remote supervisor" in reason and nowhere in reason
    assert ws.store.get_run(run.id).status is RunStatus.QUEUED  # the scheduler's to fail


def test_capacity_is_the_clusters_largest_node(ray_compute: ComputeTarget) -> None:
    capacity = RayCompute(ray_compute).capacity()
    assert (capacity.cpus, capacity.gpus) == (2.0, 0)
    assert capacity.memory_gib > 0
    size = ray_compute.size_spec
    assert size is not None and capacity.lacks(size) == []


def test_an_unknown_handle_is_gone(ray_compute: ComputeTarget) -> None:
    backend = RayCompute(ray_compute)
    assert backend.state("modelyard-0123abcd-a1") is BackendState.GONE
    assert backend.read_log("modelyard-0123abcd-a1") is None


def test_an_unreachable_cluster_is_compute_unavailable_in_one_line() -> None:
    pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    address = f"http://127.0.0.1:{_closed_port()}"
    backend = RayCompute(_ray_target(address))
    for call in (backend.capacity, lambda: backend.state("modelyard-0123abcd-a1")):
        with pytest.raises(ComputeUnavailable) as raised:
            call()
        message = raised.value.message
        assert address in message and "--address" in message and "\n" not in message


# Helpers ---------------------------------------------------------------------------------------


def _ray_target(address: str) -> ComputeTarget:
    return ComputeTarget(
        name="raypool",
        type=ComputeType.RAY,
        size="Standard_DS1_v2",  # 1 vCPU, 3.5 GiB: two fit the session's head
        priority=Priority.DEDICATED,
        min_nodes=0,
        max_nodes=2,
        idle_seconds_before_scaledown=1800,
        state=ProvisioningState.SUCCEEDED,
        created_at=datetime.now(UTC),
        address=address,
    )


def _queued_run(ws: OpenWorkspace, tmp_path: Path, script: str) -> Run:
    """A run queued on the Ray compute, its snapshot and job.json where `jobs.submit` puts
    them."""
    source = tmp_path / "project"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent(script))
    job = ScriptJob(
        experiment="on-ray", source_directory=source, script="train.py", compute_target="raypool"
    )
    run = ws.store.create_run(
        job.experiment, user=USER, source=job.describe_source(), compute_target="raypool"
    )
    run_root = ws.local_artifacts.run_root(run.id)
    job.stage(run_root / "snapshot")
    write_json_atomic(run_root / JOB_SPEC, job.to_spec())
    return ws.store.transition_run(run.id, RunStatus.QUEUED)


def _launch_request(ws: OpenWorkspace, url: str, run: Run, compute: ComputeTarget) -> LaunchRequest:
    _, token = auth.create_run_token(ws, run)
    return LaunchRequest(
        run_id=run.id,
        workspace_root=ws.root,
        log_path=ws.local_artifacts.run_root(run.id) / SUPERVISOR_LOG,
        compute=compute,
        reporting=ReportingAccess(server_url=url, token=token),
        environment={"MODELYARD_HEARTBEAT_INTERVAL_S": "0.5"},
    )


def _wait_for_end(ws: OpenWorkspace, run_id: str) -> Run:
    _wait_for(lambda: ws.store.get_run(run_id).status.is_terminal, f"run {run_id} to end")
    return ws.store.get_run(run_id)


def _wait_for_backend_end(backend: ComputeBackend, handle: str) -> BackendState:
    ended = {BackendState.SUCCEEDED, BackendState.FAILED, BackendState.STOPPED}
    _wait_for(lambda: backend.state(handle) in ended, "Ray to end the job")
    return backend.state(handle)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RUN_DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])
