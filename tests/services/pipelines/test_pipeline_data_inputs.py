"""A pipeline reading a data asset (`path: data:x@latest`): the reference is pinned to a version
when the pipeline is submitted, the step reads that version's read-only copy, its run records
the version read, and its reuse key is the version's content hash, so a new version reruns it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.data import DataVersionRequest
from modelyard.errors import NotFound
from modelyard.services import data, jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import PIPELINE, write_pipeline, write_project


def run_pipeline(ws: OpenWorkspace, path: Path) -> dict[str, StepStatus]:
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    run = jobs.wait_for_completion(ws, submit_pipeline(ws, job).id, timeout_s=240)
    assert run.status is RunStatus.COMPLETED, run.error
    return {step.step: step for step in pipeline_steps(ws, run.id)}


def read_versions(ws: OpenWorkspace, step: StepStatus) -> list[str]:
    return [
        f"{i.input_name}=data:{i.name}:{i.version}" for i in data.list_run_inputs(ws, step.run_id)
    ]


def test_a_step_over_a_data_asset_is_reused_until_a_new_version_and_records_it(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    # SQLite alone: the store's part (versions, recorded run inputs) runs on both stores in
    # test_data_assets_service.py; five pipeline runs on each would only repeat it.
    project = tmp_path / "project"
    write_project(project)
    data.create_data(ws, project / "data", DataVersionRequest("x"))
    path = write_pipeline(project, PIPELINE.replace("path: ./data", "path: data:x@latest"))

    first = run_pipeline(ws, path)
    assert first["prep"].reason == "first run"
    assert read_versions(ws, first["prep"]) == ["raw=data:x:1"]

    again = run_pipeline(ws, path)
    assert again["prep"].reused_from == first["prep"].run_id
    assert read_versions(ws, again["prep"]) == ["raw=data:x:1"]

    # The folder changes in place: the version's copy does not, so nothing reruns.
    (project / "data" / "a.txt").write_text("1 2 4")
    assert run_pipeline(ws, path)["prep"].reused_from == first["prep"].run_id

    assert data.create_data(ws, project / "data", DataVersionRequest("x")).created
    changed = run_pipeline(ws, path)
    assert changed["prep"].reason == "input `raw` changed content"
    assert changed["prep"].reused_from is None
    assert read_versions(ws, changed["prep"]) == ["raw=data:x:2"]
    model = ws.local_artifacts.run_root(changed["train"].run_id) / "outputs/model/model.txt"
    assert model.read_text() == "model of 14"

    # A step's own `path: data:…` is pinned and keyed alike: the same version, the same key.
    own = PIPELINE.replace(
        "raw: '${{parent.inputs.raw}}'", "raw: {type: uri_folder, path: 'data:x@latest'}"
    )
    steps = run_pipeline(ws, write_pipeline(project, own, "own.yml"))
    assert steps["prep"].reused_from == changed["prep"].run_id
    assert read_versions(ws, steps["prep"]) == ["raw=data:x:2"]


def test_a_pipeline_over_an_unknown_asset_is_refused_in_one_line_and_creates_nothing(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write_project(project)
    path = write_pipeline(project, PIPELINE.replace("path: ./data", "path: data:nothing@latest"))
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    with pytest.raises(NotFound) as caught:
        submit_pipeline(sqlite_workspace, job)
    assert "data asset 'nothing' not found" in caught.value.message
    assert "\n" not in caught.value.message
    assert sqlite_workspace.store.list_runs("pipe") == []
