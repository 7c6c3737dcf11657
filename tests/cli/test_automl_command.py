"""`modelyard automl` as a user types it: the CLI and the job in real subprocesses, the job's
run on the local compute through the normal job path; a run canceled midway carries on with
`modelyard run resume`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base_install.blocking import python_without_extras
from cli.commands import assert_refused_before_any_run, home_of_its_own, modelyard
from modelyard.entities import RunStatus
from modelyard.services.workspaces import open_workspace
from polling import wait_for

pytest.importorskip("flaml")
from tabular.conftest import LABEL, bundled_frame


def _create_project(folder: Path) -> Path:
    folder.mkdir()
    created = modelyard(
        "workspace", "create", "automl-ws", "--path", str(folder.parent / "ws"), cwd=folder
    )
    assert created.returncode == 0, created.stderr
    bundled_frame("breast_cancer").to_csv(folder / "cancer.csv", index=False)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each records no run (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(tmp_path_factory.mktemp("refusing") / "project")


def test_classifies_a_table_registers_the_best_model(project: Path, tmp_path: Path) -> None:
    result = modelyard(
        "automl",
        "--task",
        "classification",
        "--data",
        "cancer.csv",
        "--label",
        LABEL,
        "--experiment",
        "cancer",
        "--time-budget",
        "6",
        "--allowed-models",
        "LightGBM",
        "--allowed-models",
        "LogisticRegression",
        "--register",
        "cancer-model",
        cwd=project,
        timeout=600,
    )
    out = result.stdout
    assert "guardrails passed: 569 rows, 30 features" in out
    assert "validation: 10-fold cross-validation" in out
    assert "Leaderboard (accuracy)" in out and "VotingEnsemble" in out
    assert "Registered cancer-model:1 (onnx-tabular)" in out
    ws = open_workspace(project.parent / "ws")
    try:
        (parent,) = [run for run in ws.store.list_runs("cancer") if run.parent_id is None]
        children = ws.store.list_runs("cancer", parent_id=parent.id)
        assert sorted(child.display_name for child in children) == [
            "LightGBM",
            "LogisticRegression",
        ]
        assert ws.store.get_run_data(parent.id).latest_metrics["accuracy"] > 0.9
        names = {info.path for info in ws.artifacts.list(parent.id)}
        for name in ("guardrails.json", "leaderboard.json", "bestModel.onnx", "onnx_parity.json"):
            assert f"outputs/{name}" in names
    finally:
        ws.close()


def test_a_run_canceled_midway_resumes_without_searching_a_family_again(project: Path) -> None:
    modelyard(
        *("automl", "--task", "classification", "--data", "cancer.csv", "--label", LABEL),
        *("--experiment", "cancer", "--time-budget", "20", "--no-wait"),
        *("--allowed-models", "LightGBM", "--allowed-models", "LogisticRegression"),
        cwd=project,
    )
    [run] = json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout)
    ws = open_workspace(project.parent / "ws")
    try:
        wait_for(
            lambda: any(
                # Searched first (one hyperparameter): LightGBM is running when it is canceled.
                child.display_name == "LogisticRegression" and child.status is RunStatus.COMPLETED
                for child in ws.store.list_runs(parent_id=run["id"])
            ),
            timeout=300,
        )
        modelyard("run", "cancel", run["id"], cwd=project)
        result = modelyard("run", "resume", run["id"], "--stream", cwd=project, timeout=600)
        assert f"Resumed run {run['id']} as attempt 2." in result.stdout
        assert "LogisticRegression: searched by an earlier attempt" in result.stdout
        final = ws.store.get_run(run["id"])
        assert final.status is RunStatus.COMPLETED and final.attempt == 2
        children = ws.store.list_runs(parent_id=run["id"])
        completed = [c.display_name for c in children if c.status is RunStatus.COMPLETED]
        assert sorted(completed) == ["LightGBM", "LogisticRegression"]  # each searched once
        assert [c.display_name for c in children].count("LogisticRegression") == 1
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--label", "targte"], "--label 'targte' is not a column of the table: did you mean"),
        (["--label", LABEL, "--time-budget", "1"], "too small for one trial"),
        (["--label", LABEL, "--data", "missing.csv"], "is not a file"),
    ],
)
def test_bad_input_is_one_line_and_no_run(refusing: Path, arguments: list[str], words: str):
    base = {"--data": "cancer.csv", "--task": "classification", "--experiment": "bad"}
    assert_refused_before_any_run(refusing, refusing.parent / "ws", base, arguments, words)


def test_a_failed_guardrail_ends_the_run_in_one_line_with_its_report(project: Path) -> None:
    frame = bundled_frame("iris")
    frame[LABEL] = "setosa"
    frame.to_csv(project / "one-class.csv", index=False)
    result = modelyard(
        "automl",
        "--task",
        "classification",
        "--data",
        "one-class.csv",
        "--label",
        LABEL,
        "--experiment",
        "one",
        "--time-budget",
        "6",
        cwd=project,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "stopped: guardrails failed: the label has one class ('setosa')" in line
    ws = open_workspace(project.parent / "ws")
    try:
        (run,) = ws.store.list_runs("one")
        assert run.status.value == "Failed"
        names = {info.path for info in ws.artifacts.list(run.id)}
        assert "outputs/guardrails.json" in names
        assert "outputs/bestModel.onnx" not in names
    finally:
        ws.close()


def test_without_the_automl_extra_the_command_names_it_in_one_line(project: Path) -> None:
    result = python_without_extras(
        "-m",
        "modelyard.cli.main",
        "automl",
        *("--task", "classification", "--data", "cancer.csv", "--label", LABEL, "-e", "x"),
        cwd=project,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "AutoML for tables needs the 'automl' extra" in line
    assert line.endswith("pip install 'modelyard[automl]'")
