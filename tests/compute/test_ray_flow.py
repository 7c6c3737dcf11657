"""Ray through the scheduler, end to end: a workspace served by a real server (its background
loop running), a ray compute created and provisioned on the session's real Ray head, jobs
submitted as users submit them. A script job runs on Ray exactly as on `local`; a preempted job
on a low-priority ray compute stops, saves its checkpoints, goes back to the queue and resumes
on Ray as its second attempt (and is requeued by the server when its supervisor was killed);
a Ray head that dies mid-job fails the run with the reason; the image-classification trainer
completes on Ray."""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest

from compute.conftest import RayHead, head_members, started_ray_head
from modelyard.entities import Role, RunStatus
from modelyard.entities.compute import ComputeRequest, ComputeType, Priority, ProvisioningState
from modelyard.server import create_app
from modelyard.services import auth, computes, jobs, runs
from modelyard.services.background import BackgroundLoop
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve
from services.scheduling.test_schedule_pass import RESUMABLE

T = TypeVar("T")
DEADLINE_S = 240.0  # a noisy 2-core machine: Ray's job start and two Python start-ups per attempt
USER = "ana"
SIZE = "Standard_DS1_v2"  # 1 vCPU, 3.5 GiB: two fit the session's head

SCRIPT = """\
import sys
from pathlib import Path

from modelyard import Run

run = Run.get_context(allow_offline=False)
for step in range(5):
    run.log("loss", 1.0 / (step + 1), step=step)
run.log("accuracy", 0.9)
Path("outputs/model.txt").write_text("weights")
print("trained on", sys.argv[1], flush=True)
"""

SLEEPER = """\
import time

print("started", flush=True)
time.sleep(300)
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[OpenWorkspace]:
    """A workspace served on 127.0.0.1 (`ws.served_at` set, as `modelyard server` sets it),
    with the server's background loop (reaper, scheduling passes, Ray's logs copied)."""
    ws = create_workspace("ray-flow", path=tmp_path / "ws")
    auth.ensure_admin(ws)
    auth.create_user(ws, USER, Role.CONTRIBUTOR)
    try:
        with serve(create_app(ws)) as url:
            ws.served_at = url
            loop = BackgroundLoop(ws, interval_s=0.5).start()
            try:
                yield ws
            finally:
                loop.stop()
    finally:
        ws.close()


def test_a_script_job_runs_on_ray_as_on_local_only_the_compute_changes(
    served: OpenWorkspace, ray_head: RayHead, tmp_path: Path
) -> None:
    ws = served
    _create_ray_compute(ws, "ray-pool", ray_head.address)
    submitted = {
        compute: jobs.submit(ws, _job(tmp_path, SCRIPT, compute, compute), user=USER)
        for compute in ("ray-pool", "local")
    }
    for compute, run in submitted.items():
        ended = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
        assert ended.status is RunStatus.COMPLETED, (compute, ended.error)
        assert ended.compute_target == compute and ended.attempt == 1
        history = ws.store.get_metric_history(run.id, "loss")
        assert [(point.step, point.value) for point in history] == [
            (step, 1.0 / (step + 1)) for step in range(5)
        ]
        assert ws.store.get_run_data(run.id).latest_metrics == {"loss": 0.2, "accuracy": 0.9}
        output = ws.local_artifacts.local_path(run.id, "outputs/model.txt")
        assert output.read_text() == "weights"
        # The job's own output, in the run's log (Ray's log copied by the background loop).
        _wait_for(lambda: f"trained on {compute}" in _std_log(ws, run.id))  # noqa: B023
    assert ws.store.get_run(submitted["ray-pool"].id).handle == (
        f"modelyard-{submitted['ray-pool'].id}-a1"
    )


def test_a_preempted_job_on_ray_resumes_on_ray_with_no_step_lost_or_repeated(
    served: OpenWorkspace, ray_head: RayHead, tmp_path: Path
) -> None:
    ws = served
    _create_ray_compute(ws, "ray-cheap", ray_head.address, priority=Priority.LOW_PRIORITY)
    run = jobs.submit(ws, _job(tmp_path, RESUMABLE, "ray-cheap", "30", "0.2"), user=USER)
    _wait_for(lambda: len(ws.store.get_metric_history(run.id, "loss")) >= 5)
    _wait_for(lambda: ws.store.get_run(run.id).status is RunStatus.RUNNING)

    preempted = computes.preempt(ws, "ray-cheap")
    assert [(r.id, r.status) for r in preempted] == [(run.id, RunStatus.PREEMPTED)]
    second = _wait_for(lambda: (r := ws.store.get_run(run.id)).attempt == 2 and r.handle and r)
    assert second.handle == f"modelyard-{run.id}-a2"  # a new Ray job for the new attempt

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    assert [point.step for point in ws.store.get_metric_history(run.id, "loss")] == list(range(30))
    [attempt] = ws.compute_store.list_attempts(run.id)
    assert (attempt.attempt, attempt.outcome) == (1, RunStatus.PREEMPTED)
    assert "on demand" in attempt.cause
    # The checkpoint went to the server and came back to the second attempt on Ray.
    assert ws.local_artifacts.local_path(run.id, "checkpoints/state.json").is_file()
    log = _wait_for(lambda: "attempt 2 from step" in (text := _std_log(ws, run.id)) and text)
    assert "attempt 1 from step 0" in log
    resumed_from = int(log.split("attempt 2 from step ")[1].split()[0])
    assert 5 <= resumed_from < 30
    assert "not requeued" not in log  # its supervisor requeued it, not the server's reaper


def test_a_preempted_job_whose_supervisor_was_killed_is_requeued_by_the_server(
    served: OpenWorkspace, ray_head: RayHead, tmp_path: Path
) -> None:
    """Its supervisor SIGKILLed (a node's OOM killer) as it is preempted: it never says it
    stopped, so the server's reaper requeues the run once Ray says the job ended."""
    ws = served
    _create_ray_compute(ws, "ray-cheap", ray_head.address, priority=Priority.LOW_PRIORITY)
    run = jobs.submit(ws, _job(tmp_path, RESUMABLE, "ray-cheap", "12", "0.2"), user=USER)
    _wait_for(lambda: len(ws.store.get_metric_history(run.id, "loss")) >= 3)
    [supervisor] = [
        process
        for process in psutil.process_iter()
        if {"modelyard.runtime.remote_supervisor", run.id} <= set(_command_of(process))
    ]
    supervisor.kill()
    computes.preempt(ws, "ray-cheap")

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    assert final.attempt == 2
    # No checkpoint reached the server: attempt 2 starts over, and logs each step once.
    assert [point.step for point in ws.store.get_metric_history(run.id, "loss")] == list(range(12))
    _wait_for(lambda: "attempt 2 from step 0" in _std_log(ws, run.id))
    [attempt] = ws.compute_store.list_attempts(run.id)
    assert (attempt.outcome, attempt.cause) == (RunStatus.PREEMPTED, computes.ON_DEMAND)


def test_a_ray_head_that_dies_mid_job_fails_the_run_with_the_reason(
    served: OpenWorkspace, ray_head: RayHead, tmp_path: Path
) -> None:
    """A head of its own (the session's stays up), killed as a crashed machine dies."""
    ws = served
    with started_ray_head(tmp_path / "doomed", "doomed") as doomed:
        _create_ray_compute(ws, "ray-doomed", doomed.address)
        run = jobs.submit(ws, _job(tmp_path, SLEEPER, "ray-doomed"), user=USER)
        _wait_for(lambda: "started" in _std_log(ws, run.id))
        assert ws.store.get_run(run.id).status is RunStatus.RUNNING
        members = head_members(doomed)
        job = [m for m in members if "remote_supervisor" in " ".join(_command_of(m))]
        assert job  # the job's supervisor: Ray's entrypoint, in a session of its own
        try:
            os.killpg(doomed.process.pid, signal.SIGKILL)  # the head's own processes, at once
            final = _wait_for(lambda: (r := runs.get_run(ws, run.id)).status.is_terminal and r)
            # The job saw its Ray processes go, stopped its script and left (Ray could not).
            assert not [m for m in job if m.is_running() and m.status() != psutil.STATUS_ZOMBIE]
        finally:
            _kill_all(members)
    assert final.status is RunStatus.FAILED
    assert final.error is not None
    assert final.error.startswith("compute ray-doomed stopped answering: the Ray cluster at")
    assert doomed.address in final.error


def test_image_classification_completes_on_ray(
    served: OpenWorkspace, ray_head: RayHead, tmp_path: Path
) -> None:
    pytest.importorskip("torch", reason="the 'vision' extra is not installed")
    from modelyard.services.training import submit_image_classification
    from modelyard.vision.config import ImageClassificationConfig
    from vision.shapes import write_shapes

    ws = served
    _create_ray_compute(ws, "ray-gpu-less", ray_head.address)
    data = write_shapes(tmp_path / "shapes", per_class=8)
    config = ImageClassificationConfig(
        data=str(data), backbone="resnet18", weights="none", epochs=2, compute_target="ray-gpu-less"
    )
    run = submit_image_classification(ws, "shapes", config, user=USER)
    # The images went with the job, in its snapshot: a Ray node need not see this disk.
    snapshot = ws.local_artifacts.run_root(run.id) / "snapshot"
    assert sorted(path.name for path in (snapshot / "data").iterdir()) == sorted(
        path.name for path in data.iterdir()
    )

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    assert ws.local_artifacts.local_path(run.id, "outputs/MLModel.zip").is_file()
    validation = ws.store.get_metric_history(run.id, "validation_accuracy")
    assert [point.step for point in validation] == [1, 2]
    assert "accuracy" in ws.store.get_run_data(run.id).latest_metrics


# Helpers ---------------------------------------------------------------------------------------


def _create_ray_compute(
    ws: OpenWorkspace, name: str, address: str, priority: Priority = Priority.DEDICATED
) -> None:
    request = ComputeRequest(
        name, type=ComputeType.RAY, address=address, size=SIZE, priority=priority, max_nodes=1
    )
    compute = computes.create_compute(ws, request)
    assert compute.state is ProvisioningState.SUCCEEDED, compute.errors


def _job(tmp_path: Path, script: str, compute: str, *arguments: str) -> ScriptJob:
    """The same job for every compute: only `compute_target` differs."""
    project = tmp_path / f"project-{compute}"
    project.mkdir(exist_ok=True)
    (project / "train.py").write_text(textwrap.dedent(script))
    return ScriptJob(
        experiment="flow",
        source_directory=project,
        script="train.py",
        arguments=arguments,
        compute_target=compute,
    )


def _std_log(ws: OpenWorkspace, run_id: str) -> str:
    path = ws.local_artifacts.run_root(run_id) / STD_LOG
    return path.read_text(errors="replace") if path.is_file() else ""


def _wait_for(condition: Callable[[], T | bool | None]) -> T:
    deadline = time.monotonic() + DEADLINE_S
    while not (value := condition()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)
    return value  # type: ignore[return-value]


def _kill_all(processes: list[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=30)


def _command_of(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []
