"""AutoML for tables through the service and the scheduler: a preempted job's next attempt
searches only the families the first attempt did not finish (FLAML alone can't resume)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.errors import InvalidValue
from modelyard.services import computes, jobs, runs
from modelyard.services.automl import submit_automl
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace

pytest.importorskip("flaml")
from modelyard.tabular.config import AutoMLConfig
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
    table = tmp_path / "cancer.csv"
    bundled_frame("breast_cancer").to_csv(table, index=False)
    config = AutoMLConfig(
        "classification",
        str(table),
        LABEL,
        time_budget_s=20,  # 10 s a family: time to preempt between the first and the second
        allowed_models=["LightGBM", "LogisticRegression"],
        compute_target="cheap",
    )
    run = submit_automl(ws, "cancer", config)
    _until(lambda: _completed_families(ws, run.id) == ["LightGBM"])
    assert [r.id for r in computes.preempt(ws, "cheap")] == [run.id]
    _until(lambda: runs.get_run(ws, run.id).attempt == 2)

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    log = (ws.local_artifacts.run_root(run.id) / STD_LOG).read_text()
    assert "LightGBM: searched by an earlier attempt" in log
    children = ws.store.list_runs("cancer", parent_id=run.id)
    assert [c.display_name for c in children].count("LightGBM") == 1  # searched once
    assert _completed_families(ws, run.id) == ["LightGBM", "LogisticRegression"]
    names = {info.path for info in ws.artifacts.list(run.id)}
    assert {"outputs/bestModel.onnx", "outputs/leaderboard.json"} <= names


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
