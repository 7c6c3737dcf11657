"""A step's output named as a data asset (`outputs: {model: {type: uri_folder, name: x}}`) is
registered once its step completes: a new version for new content, the existing version for
the same content (said in the driver's log), nothing for a reused step; the version names the
run that produced it and the run the version. A pipeline output's `name:` registers the output
of the step bound to it alike. Azure's `version:` is refused when the file is read: the
workspace numbers versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue
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


def parent_named(step_output: str, pipeline_output: str) -> str:
    """The project's pipeline with `train`'s output bound to a pipeline output `model`."""
    bound = PIPELINE.replace("outputs: {model: {type: uri_folder}}", f"outputs: {step_output}")
    return bound.replace("jobs:", f"outputs:\n  model: {pipeline_output}\njobs:", 1)


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


def test_a_named_pipeline_output_registers_the_output_of_the_step_bound_to_it(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    text = parent_named(
        "{model: '${{parent.outputs.model}}'}", "{type: uri_folder, name: etl-final}"
    )
    first, ran = run_pipeline(ws, write_project(tmp_path / "project", text))
    version = data.get_data_version(ws, "data:etl-final@latest")
    assert version.version == 1
    assert (data.data_path(ws, version) / "model.txt").read_text() == "model of 12"
    assert version.tags[PRODUCED_BY_RUN_TAG] == ran["train"].run_id
    assert ws.store.get_run_data(ran["train"].run_id).tags[output_tag("model")] == "etl-final:1"
    assert "step train output model registered as data etl-final:1 (a new version)" in (
        _log_text(ws, first)
    )


@pytest.mark.parametrize(
    ("step_output", "pipeline_output", "refusal"),
    [
        (
            "{model: {type: uri_folder, name: etl-model, version: '3'}}",
            "{type: uri_folder}",
            "step 'train' output 'model' version '3': data asset versions are numbered by the"
            " workspace (the next number, or the existing version with the same content), not"
            " chosen: remove 'version'; `modelyard data show etl-model` shows the version it got",
        ),
        (
            "{model: '${{parent.outputs.model}}'}",
            "{type: uri_folder, name: etl-final, version: 2}",
            "pipeline output 'model' version 2: data asset versions are numbered by the workspace",
        ),
        (
            "{model: {type: uri_folder, path: '${{parent.outputs.model}}', name: etl-model}}",
            "{type: uri_folder, name: etl-final}",
            "step 'train' output 'model' is registered as data 'etl-model', but pipeline output"
            " 'model' names 'etl-final': give the name in one of the two places",
        ),
        (
            "{model: '${{parent.outputs.model}}'}",
            "{type: uri_folder, name: 'bad name'}",
            "pipeline output 'model' name 'bad name':",
        ),
    ],
)
def test_an_output_version_or_two_names_for_one_output_are_refused_when_read(
    tmp_path: Path, step_output: str, pipeline_output: str, refusal: str
) -> None:
    path = write_project(tmp_path / "project", parent_named(step_output, pipeline_output))
    with pytest.raises(InvalidValue) as raised:
        load_job_file(path)
    assert refusal in raised.value.message
    assert "\n" not in raised.value.message
