"""`modelyard job create -f pipeline.yml` and `modelyard pipeline show|rerun`, as a user types
them: a pipeline streams its steps' progress and ends with its steps; a rerun from a step
reuses the steps before it; a wrong pipeline file is one line and creates nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.commands import modelyard
from pipeline_projects import PIPELINE, write_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write_project(folder)
    modelyard("workspace", "create", "pipe-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def runs_in(project: Path) -> list[dict[str, object]]:
    return list(json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout))


def test_a_pipeline_streams_its_steps_and_reruns_from_a_step(project: Path) -> None:
    result = modelyard("job", "create", "-f", "pipeline.yml", "--stream", cwd=project)
    assert "pipeline etl (attempt 1): 2 steps, in order prep, train" in result.stdout
    assert "submitted on local: first run" in result.stdout
    assert result.stdout.count(") Completed\n") == 2  # each step, as it ended
    assert "pipeline completed: 2 steps, 0 reused" in result.stdout
    assert "Steps" in result.stdout and "first run" in result.stdout
    [parent] = [run for run in runs_in(project) if run["parent_id"] is None]
    assert parent["status"] == "Completed"

    shown = json.loads(
        modelyard("pipeline", "show", str(parent["id"]), "-o", "json", cwd=project).stdout
    )
    assert [(step["step"], step["status"], step["reason"]) for step in shown] == [
        ("prep", "Completed", "first run"),
        ("train", "Completed", "first run"),
    ]

    child = shown[0]["run_id"]
    not_one = modelyard("pipeline", "show", child, cwd=project, check=False)
    assert not_one.returncode == 1 and f"run {child} is not a pipeline run" in not_one.stderr

    rerun = modelyard(
        "pipeline", "rerun", str(parent["id"]), "--from", "train", "--stream", cwd=project
    )
    assert f"a rerun of run {parent['id']} from step train" in rerun.stdout
    assert "forced rerun (rerun from step train)" in rerun.stdout
    assert f") Completed: reused run {shown[0]['run_id']}'s outputs" in rerun.stdout
    [second] = [r for r in runs_in(project) if r["parent_id"] is None and r != parent]
    new = json.loads(
        modelyard("pipeline", "show", str(second["id"]), "-o", "json", cwd=project).stdout
    )
    assert new[0]["reused_from"] == shown[0]["run_id"]
    assert new[1]["reused_from"] is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("jobs.prep.outputs.clean", "jobs.prepp.outputs.clean"),
            "step 'train' input 'data' reads step 'prepp', which does not exist: did you mean"
            " 'prep'?",
        ),
        (
            ("raw: '${{parent.inputs.raw}}'", "raw: '${{parent.jobs.train.outputs.model}}'"),
            "steps prep → train → prep form a cycle",
        ),
    ],
)
def test_a_wrong_pipeline_file_is_one_line_and_creates_nothing(
    project: Path, change: tuple[str, str], expected: str
) -> None:
    (project / "pipeline.yml").write_text(PIPELINE.replace(*change))
    result = modelyard("job", "create", "-f", "pipeline.yml", cwd=project, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert runs_in(project) == []
