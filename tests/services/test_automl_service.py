"""AutoML for tables through the service and the scheduler: a preempted job's next attempt, and
a killed one's resumed by the user, search only the families the first attempt did not finish
(FLAML alone can't resume)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from modelyard.entities import ResumableJob, Run, RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.errors import Conflict, InvalidValue
from modelyard.services import computes, jobs, runs
from modelyard.services.automl import AUTOML_MODULE, submit_automl
from modelyard.services.resume import resume_job
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace

pytest.importorskip("flaml")
from modelyard.tabular.config import AutoMLConfig
from polling import wait_for
from run_processes import pid_of
from tabular.conftest import LABEL, bundled_frame

DEADLINE_S = 300.0


def test_a_preempted_run_resumes_without_searching_a_finished_family_again(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    cheap = computes.create_compute(
        ws, ComputeRequest("cheap", size="Standard_DS2_v2", priority=Priority.LOW_PRIORITY)
    )
    assert cheap.state is ProvisioningState.SUCCEEDED, cheap.errors
    run = submit_automl(ws, "cancer", _two_families(tmp_path, compute_target="cheap"))
    _until(lambda: _completed_families(ws, run.id) == ["LogisticRegression"])
    assert [r.id for r in computes.preempt(ws, "cheap")] == [run.id]
    _until(lambda: runs.get_run(ws, run.id).attempt == 2)

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    log = (ws.local_artifacts.run_root(run.id) / STD_LOG).read_text()
    assert "LogisticRegression: searched by an earlier attempt" in log
    children = ws.store.list_runs("cancer", parent_id=run.id)
    assert [c.display_name for c in children].count("LogisticRegression") == 1  # searched once
    assert _completed_families(ws, run.id) == ["LightGBM", "LogisticRegression"]
    names = {info.path for info in ws.artifacts.list(run.id)}
    assert {"outputs/bestModel.onnx", "outputs/leaderboard.json"} <= names


def test_a_killed_run_resumed_by_the_user_searches_no_family_twice(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    run = submit_automl(ws, "cancer", _two_families(tmp_path))

    def trainer_in_second_search() -> psutil.Process | None:
        children = {c.display_name: c.status for c in ws.store.list_runs(parent_id=run.id)}
        if children != {"LogisticRegression": RunStatus.COMPLETED, "LightGBM": RunStatus.RUNNING}:
            return None
        return _job_process(ws.store.get_run(run.id))

    os.kill(wait_for(trainer_in_second_search, timeout=DEADLINE_S).pid, signal.SIGKILL)
    failed = wait_for(lambda: (found := ws.store.get_run(run.id)).status.is_terminal and found)
    assert failed.status is RunStatus.FAILED

    resumed = resume_job(ws, run.id, ResumableJob.AUTOML)
    assert resumed.attempt == 2 and resumed.error is None and resumed.ended_at is None
    [interrupted] = [
        c for c in ws.store.list_runs(parent_id=run.id) if c.display_name == "LightGBM"
    ]
    assert interrupted.status is RunStatus.FAILED  # its process died with the job: settled
    assert "its next attempt takes this child's work up again" in str(interrupted.error)

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    log = (ws.local_artifacts.run_root(run.id) / STD_LOG).read_text()
    assert log.count("LogisticRegression: searched by an earlier attempt") == 1
    children = ws.store.list_runs(parent_id=run.id)
    assert sorted(str(c.display_name) for c in children) == [
        "LightGBM",  # the search the kill cut short
        "LightGBM",  # searched again, to the end, by the second attempt
        "LogisticRegression",  # searched once, by the first attempt
    ]
    assert _completed_families(ws, run.id) == ["LightGBM", "LogisticRegression"]
    [earlier] = runs.list_attempts(ws, run.id)
    assert earlier.outcome is RunStatus.FAILED
    names = {info.path for info in ws.artifacts.list(run.id)}
    assert {"outputs/bestModel.onnx", "outputs/leaderboard.json"} <= names
    with pytest.raises(Conflict, match="has completed: nothing to resume"):
        resume_job(ws, run.id)


def _two_families(folder: Path, **settings: str) -> AutoMLConfig:
    """breast_cancer, LogisticRegression (searched first: one hyperparameter) then LightGBM,
    which gets what the first leaves of 20 s: time to stop the job (preempt it, kill it)
    between the first family's end and the second's."""
    table = folder / "cancer.csv"
    bundled_frame("breast_cancer").to_csv(table, index=False)
    families = ["LightGBM", "LogisticRegression"]
    return AutoMLConfig(
        "classification", str(table), LABEL, time_budget_s=20, allowed_models=families, **settings
    )


def _job_process(parent: Run) -> psutil.Process | None:
    """The trainer's process: the child of the run's supervisor that runs the built-in job."""
    pid = pid_of(parent)
    if pid is None:
        return None
    for process in psutil.Process(pid).children():
        if AUTOML_MODULE in " ".join(process.cmdline()):
            return process
    return None


def test_a_table_without_the_label_is_refused_before_any_run(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    table = tmp_path / "wine.csv"
    bundled_frame("wine").to_csv(table, index=False)
    with pytest.raises(InvalidValue, match="did you mean 'target'"):
        submit_automl(
            sqlite_workspace, "wine", AutoMLConfig("classification", str(table), "Target ")
        )
    assert sqlite_workspace.store.list_runs() == []


def _completed_families(ws: OpenWorkspace, run_id: str) -> list[str]:
    return sorted(
        str(child.display_name)
        for child in ws.store.list_runs(parent_id=run_id)
        if child.status is RunStatus.COMPLETED
    )


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
