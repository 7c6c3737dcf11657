"""`modelyard pipeline publish | invoke | published …` as a user types them: a pipeline file
published twice is versions 1 and 2; set-default, disable and enable change which runs; an
invocation's `--set` reaches the steps; a wrong parameter or a disabled version is one line
and creates nothing; a pipeline run is published as it ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.commands import modelyard
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.workspaces import open_workspace
from pipeline_projects import write_project

# Whole pipeline runs of real processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write_project(folder)
    modelyard("workspace", "create", "pub-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def runs_in(project: Path) -> list[dict[str, object]]:
    return list(json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout))


def refused(project: Path, *arguments: str) -> str:
    result = modelyard(*arguments, cwd=project, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_publish_versions_and_invoke_with_parameters(project: Path, tmp_path: Path) -> None:
    for version in (1, 2):
        made = modelyard(
            "pipeline", "publish", "-f", "pipeline.yml", "--name", "etl", "-o", "json", cwd=project
        )
        assert json.loads(made.stdout)["version"] == version
    listed = json.loads(
        modelyard("pipeline", "published", "list", "-o", "json", cwd=project).stdout
    )
    assert [(p["name"], p["latest_version"], p["default_version"]) for p in listed] == [
        ("etl", 2, 2)
    ]
    shown = modelyard("pipeline", "published", "show", "etl:1", cwd=project).stdout
    assert "scale" in shown and "integer" in shown and "uri_folder" in shown

    modelyard("pipeline", "published", "set-default", "etl", "1", cwd=project)
    modelyard("pipeline", "published", "disable", "etl", "1", cwd=project)
    said = refused(project, "pipeline", "invoke", "etl")
    assert "published pipeline etl:1 is disabled" in said
    assert "modelyard pipeline published enable etl 1" in said
    said = refused(project, "pipeline", "invoke", "etl", "--version", "2", "--set", "scal=5")
    assert "did you mean 'scale'?" in said
    said = refused(project, "pipeline", "invoke", "etl", "--version", "2", "--set", "scale")
    assert "is not NAME=VALUE" in said
    assert runs_in(project) == []

    modelyard("pipeline", "published", "enable", "etl", "1", cwd=project)
    invoked = modelyard(
        "pipeline",
        "invoke",
        "etl",
        "--experiment",
        "cli",
        "--set",
        "scale=5",
        "--stream",
        cwd=project,
        timeout=300,
    )
    assert "pipeline completed: 2 steps" in invoked.stdout
    [parent] = [run for run in runs_in(project) if run["parent_id"] is None]
    assert parent["experiment"] == "cli"
    ws = open_workspace(tmp_path / "ws")
    try:
        data = ws.store.get_run_data(str(parent["id"]))
        assert data.tags["modelyard.published_pipeline_version"] == "1"
        train = {s.step: s for s in pipeline_steps(ws, str(parent["id"]))}["train"]
        model = ws.local_artifacts.run_root(train.run_id) / "outputs/model/model.txt"
        assert model.read_text() == "model of 30"
    finally:
        ws.close()

    from_run = modelyard(
        "pipeline",
        "publish",
        "--run",
        str(parent["id"]),
        "--name",
        "as-ran",
        "-o",
        "json",
        cwd=project,
    )
    assert json.loads(from_run.stdout)["source_run"] == parent["id"]
    said = refused(project, "pipeline", "publish", "--name", "x")
    assert "give either -f PIPELINE.yml or --run RUN" in said
