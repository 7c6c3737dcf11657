"""A step's output named as a data asset (`outputs: {model: {type: uri_folder, name: x}}`) is
registered once its step completes: a new version for new content, the existing version for
the same content (said in the driver's log), nothing for a reused step; the version names the
run that produced it and the run the version."""

from __future__ import annotations

from pathlib import Path

from modelyard.entities import Run, RunStatus
from modelyard.services import data, jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.outputs import (
    PRODUCED_BY_PIPELINE_TAG,
    PRODUCED_BY_RUN_TAG,
    PRODUCED_BY_STEP_TAG,
    output_tag,
)
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import PIPELINE, write_project

NAMED = PIPELINE.replace(
    "outputs: {model: {type: uri_folder}}",
    "outputs: {model: {type: uri_folder, name: etl-model}}",
)


def run_pipeline(
    ws: OpenWorkspace, path: Path, force_rerun: bool = False
) -> tuple[Run, dict[str, StepStatus]]:
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    run = submit_pipeline(ws, job, force_rerun=force_rerun)
    run = jobs.wait_for_completion(ws, run.id, timeout_s=240)
    assert run.status is RunStatus.COMPLETED, run.error
    return run, {step.step: step for step in pipeline_steps(ws, run.id)}


def _log_text(ws: OpenWorkspace, run: Run) -> str:
    root = ws.local_artifacts.run_root(run.id)
    return "".join(path.read_text() for path in root.rglob("std_log.txt"))


def test_a_named_output_becomes_a_data_asset_version_once(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    # SQLite alone: registering a version (new or the same content's) runs on both stores in
    # test_data_assets_service.py; three pipeline runs on each would only repeat it.
    path = write_project(tmp_path / "project", NAMED)
    first, ran = run_pipeline(ws, path)
    version = data.get_data_version(ws, "data:etl-model@latest")
    assert version.version == 1
    assert (data.data_path(ws, version) / "model.txt").read_text() == "model of 12"
    assert version.tags == {
        PRODUCED_BY_RUN_TAG: ran["train"].run_id,
        PRODUCED_BY_PIPELINE_TAG: first.id,
        PRODUCED_BY_STEP_TAG: "train",
    }
    assert ws.store.get_run_data(ran["train"].run_id).tags[output_tag("model")] == "etl-model:1"
    assert "step train output model registered as data etl-model:1 (a new version)" in (
        _log_text(ws, first)
    )

    # Reused: nothing registered again.
    _, reused = run_pipeline(ws, path)
    assert reused["train"].reused_from == ran["train"].run_id
    assert output_tag("model") not in ws.store.get_run_data(reused["train"].run_id).tags
    assert [v.version for v in data.list_versions(ws, "etl-model")] == [1]

    # Run again, the same content: the existing version, said so.
    forced, again = run_pipeline(ws, path, force_rerun=True)
    assert again["train"].reused_from is None
    assert ws.store.get_run_data(again["train"].run_id).tags[output_tag("model")] == "etl-model:1"
    assert "(content unchanged: the existing version)" in _log_text(ws, forced)
    assert [v.version for v in data.list_versions(ws, "etl-model")] == [1]
