"""The scheduling pass on real databases and real processes: passes run at once never admit
more than a compute's nodes, a preempted job resumes where it stopped, a dedicated job makes
room on a shared host, a lost launch and a failed compute leave nothing stuck."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from modelyard.compute.local import LocalCompute
from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.errors import ComputeUnavailable
from modelyard.services import computes, jobs, runs, scheduling
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import SUPERVISOR_LOG
from modelyard.services.scheduling.planning import Resources, plan
from modelyard.services.workspaces import OpenWorkspace, open_workspace
from polling import wait_for
from run_processes import pid_of

# Counts steps 0..N-1, a checkpoint after each; on a stop request it checkpoints and exits.
RESUMABLE = """
import json, sys, time
from modelyard import Run

run = Run.get_context()
state = run.checkpoint_dir / "state.json"
step = json.loads(state.read_text())["next"] if state.exists() else 0
print("attempt", run.attempt, "from step", step, flush=True)
while step < int(sys.argv[1]):
    run.log("loss", 1.0 / (step + 1), step=step)
    step += 1
    state.write_text(json.dumps({"next": step}))
    if run.stop_requested:
        run.flush()
        sys.exit(0)
    time.sleep(float(sys.argv[2]))
"""


def script_job(tmp_path: Path, compute: str, *arguments: str) -> ScriptJob:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "train.py").write_text(textwrap.dedent(RESUMABLE))
    return ScriptJob(
        experiment="sched",
        source_directory=project,
        script="train.py",
        arguments=arguments,
        compute_target=compute,
    )


def whole_host_size() -> str:
    """The catalog's largest CPU size that fits this host and that two of would not."""
    cpus = LocalCompute().capacity().cpus
    for name, vcpus in (("Standard_DS4_v2", 8), ("Standard_DS3_v2", 4), ("Standard_DS2_v2", 2)):
        if vcpus <= cpus < 2 * vcpus:
            return name
    pytest.skip(f"no catalog size takes this {cpus:g}-CPU host whole")


def create(ws: OpenWorkspace, name: str, **fields: object) -> None:
    compute = computes.create_compute(ws, ComputeRequest(name=name, **fields))  # type: ignore[arg-type]
    assert compute.state is ProvisioningState.SUCCEEDED, compute.errors


def test_passes_run_at_once_never_admit_more_than_the_nodes(workspace: OpenWorkspace) -> None:
    create(workspace, "two", size="Standard_DS1_v2", max_nodes=2)
    for _ in range(12):
        run = workspace.store.create_run("sched", user="u", compute_target="two")
        workspace.store.transition_run(run.id, RunStatus.QUEUED)
    capacity = {"this host": Resources(cpus=64, memory_gib=512, gpus=0)}
    admitted: list[str] = []
    errors: list[BaseException] = []

    def one_pass() -> None:
        ws = open_workspace(workspace.root)
        try:
            for _ in range(5):
                _, started = ws.compute_store.schedule(lambda state: plan(state, capacity))
                admitted.extend(run.id for run in started)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            ws.close()

    threads = [threading.Thread(target=one_pass) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    starting = workspace.store.list_runs("sched", statuses=[RunStatus.STARTING])
    assert len(starting) == 2 and sorted(admitted) == sorted(run.id for run in starting)
    waiting = workspace.store.list_runs("sched", statuses=[RunStatus.QUEUED])
    assert all("waiting for a node on two" in (run.status_detail or "") for run in waiting)


def test_a_preempted_job_resumes_with_no_step_lost_or_repeated(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    create(ws, "cheap", size="Standard_DS1_v2", priority=Priority.LOW_PRIORITY)
    run = jobs.submit(ws, script_job(tmp_path, "cheap", "40", "0.1"))
    for preemption in (1, 2):  # two in a row
        logged = 5 * preemption
        wait_for(lambda: len(ws.store.get_metric_history(run.id, "loss")) >= logged)  # noqa: B023
        wait_for(lambda: runs.get_run(ws, run.id).status is RunStatus.RUNNING)
        preempted = computes.preempt(ws, "cheap")
        assert [r.id for r in preempted] == [run.id]
        assert preempted[0].status is RunStatus.PREEMPTED
        wait_for(lambda: runs.get_run(ws, run.id).attempt == preemption + 1)  # noqa: B023
    final = jobs.wait_for_completion(ws, run.id, timeout_s=120)
    assert final.status is RunStatus.COMPLETED, final.error
    steps = [point.step for point in ws.store.get_metric_history(run.id, "loss")]
    assert steps == list(range(40))
    attempts = ws.compute_store.list_attempts(run.id)
    assert [(a.attempt, a.outcome) for a in attempts] == [
        (1, RunStatus.PREEMPTED),
        (2, RunStatus.PREEMPTED),
    ]
    assert all("on demand" in a.cause for a in attempts)
    log = (ws.local_artifacts.run_root(run.id) / "logs/std_log.txt").read_text()
    assert "attempt 1 from step 0" in log and "attempt 3 from step" in log


def test_a_dedicated_job_preempts_a_low_priority_one_on_a_shared_host(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    size = whole_host_size()  # one job of either compute leaves no room for the other
    create(ws, "cheap", size=size, priority=Priority.LOW_PRIORITY)
    create(ws, "sure", size=size)
    cheap = jobs.submit(ws, script_job(tmp_path, "cheap", "60", "0.1"))
    wait_for(lambda: len(ws.store.get_metric_history(cheap.id, "loss")) >= 3)
    sure = jobs.submit(ws, script_job(tmp_path, "sure", "3", "0"))
    done = jobs.wait_for_completion(ws, sure.id, timeout_s=120)
    assert done.status is RunStatus.COMPLETED, done.error
    final = jobs.wait_for_completion(ws, cheap.id, timeout_s=120)
    assert final.status is RunStatus.COMPLETED, final.error
    assert final.attempt >= 2
    attempts = ws.compute_store.list_attempts(cheap.id)
    assert "a dedicated job on sure" in attempts[0].cause
    assert [p.step for p in ws.store.get_metric_history(cheap.id, "loss")] == list(range(60))


def test_a_lost_launch_is_queued_again_and_runs(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process that admitted a run died before launching it: Starting with no handle."""
    ws = sqlite_workspace
    monkeypatch.setattr(scheduling, "launch", lambda ws, run: run)  # admits, never launches
    run = jobs.submit(ws, script_job(tmp_path, "local", "2", "0"))
    assert ws.store.get_run(run.id).status is RunStatus.STARTING
    monkeypatch.undo()
    final = wait_for(lambda: (r := runs.get_run(ws, run.id)).status.is_terminal and r, timeout=120)
    assert final.status is RunStatus.COMPLETED, final.error
    attempts = ws.compute_store.list_attempts(run.id)
    assert attempts[0].outcome is RunStatus.STARTING and "launch was lost" in attempts[0].cause


def test_a_failed_compute_fails_its_queue_and_refuses_new_jobs(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    create(ws, "one", size="Standard_DS1_v2", max_nodes=1)
    first = jobs.submit(ws, script_job(tmp_path, "one", "100", "0.1"))
    second = jobs.submit(ws, script_job(tmp_path, "one", "1", "0"))
    assert ws.store.get_run(second.id).status is RunStatus.QUEUED
    ws.compute_store.set_compute_state("one", ProvisioningState.FAILED, ["the host went away"])
    scheduling.schedule_pass(ws)
    failed = ws.store.get_run(second.id)
    assert failed.status is RunStatus.FAILED
    assert failed.error == "compute one failed: the host went away"
    with pytest.raises(Exception, match=r"submit to another compute"):
        jobs.submit(ws, script_job(tmp_path, "one", "1", "0"))
    runs.cancel_run(ws, first.id)


def test_a_job_whose_size_no_longer_fits_is_refused_at_submit(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    create(workspace, "shrunk", size="Standard_DS1_v2")
    with workspace.sql_store._engine.begin() as connection:  # as if the host had lost its GPUs
        connection.execute(text("UPDATE computes SET size = 'Standard_NC6' WHERE name = 'shrunk'"))
    with pytest.raises(
        ComputeUnavailable, match="no longer fits where it runs, which lacks 1 GPUs"
    ):
        jobs.submit(workspace, script_job(tmp_path, "shrunk", "1", "0"))
    assert workspace.store.list_runs("sched") == []


# Ignores SIGTERM: only the kill at the end of the grace period stops it.
STUBBORN = """
import signal, time
from modelyard import Run

signal.signal(signal.SIGTERM, signal.SIG_IGN)
run = Run.get_context()
run.log("alive", run.attempt)
run.flush()
time.sleep(3600 if run.attempt == 1 else 0)
"""


def test_a_supervisor_killed_during_the_grace_period_still_leaves_the_run_queued_again(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    create(ws, "cheap", size="Standard_DS1_v2", priority=Priority.LOW_PRIORITY)
    project = tmp_path / "stubborn"
    project.mkdir()
    (project / "train.py").write_text(textwrap.dedent(STUBBORN))
    run = jobs.submit(ws, ScriptJob("sched", project, "train.py", compute_target="cheap"))
    wait_for(lambda: ws.store.get_metric_history(run.id, "alive"))
    supervisor = pid_of(ws.store.get_run(run.id))
    assert supervisor is not None
    computes.preempt(ws, "cheap")
    supervisor_log = ws.local_artifacts.run_root(run.id) / SUPERVISOR_LOG
    wait_for(lambda: "stopping the job" in supervisor_log.read_text())
    os.kill(supervisor, signal.SIGKILL)  # mid-grace: the script ignores SIGTERM
    final = jobs.wait_for_completion(ws, run.id, timeout_s=120)  # the reaper takes it from here
    assert final.status is RunStatus.COMPLETED, final.error
    assert final.attempt == 2
    [attempt] = ws.compute_store.list_attempts(run.id)
    assert attempt.outcome is RunStatus.PREEMPTED
