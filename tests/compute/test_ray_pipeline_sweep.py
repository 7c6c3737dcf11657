"""A pipeline sweep whose trials run on a Ray compute: the pipeline sweep tests' project (the
`fit` component as the trial, reading a data input), with Ray as its default compute. Each
trial (a job on the session's real Ray head, a node that need not see this disk) reads the
copy its snapshot carries, not this disk's path; it writes into its output folder without
making it, and the best trial's output feeds a step on Ray too."""

from __future__ import annotations

from pathlib import Path

from compute.conftest import RayHead
from compute.test_ray_flow import (
    DEADLINE_S,
    USER,
    _create_ray_compute,
    served,  # noqa: F401 (a fixture)
)
from modelyard.entities import RunStatus
from modelyard.services import components, jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import outputs_of
from services.pipelines.test_pipeline_sweep_components import PIPELINE, fit_project

ON_RAY = PIPELINE.replace("jobs:\n", "settings: {default_compute: ray-pool}\njobs:\n", 1)


def test_a_sweeps_trials_on_ray_read_their_carried_data_and_feed_the_best_downstream(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
) -> None:
    ws = served
    _create_ray_compute(ws, "ray-pool", ray_head.address)
    path = fit_project(tmp_path, ON_RAY)
    components.create_component(ws, tmp_path / "components" / "fit.yml")
    job = load_job_file(path, ws)
    assert isinstance(job, PipelineJob)

    parent = submit_pipeline(ws, job, user=USER)
    ended = jobs.wait_for_completion(ws, parent.id, timeout_s=DEADLINE_S)
    assert ended.status is RunStatus.COMPLETED, ended.error
    ran = {step.step: step for step in pipeline_steps(ws, parent.id)}
    assert ws.store.get_run(ran["report"].run_id).compute_target == "ray-pool"

    # Each trial ran on Ray, was given the data input where its snapshot carried it (a path
    # relative to its working folder, not this disk's) and scored what it read there (the
    # files' sum, 6, times its rate), in an output folder it did not make.
    trials = ws.store.list_runs(parent_id=ran["tune"].run_id)
    assert {(t.status, t.compute_target) for t in trials} == {(RunStatus.COMPLETED, "ray-pool")}
    given = {
        ws.local_artifacts.local_path(t.id, "outputs/model/data.txt").read_text() for t in trials
    }
    assert given == {"inputs/data"}
    scores = {ws.store.get_run_data(t.id).latest_metrics["score"] for t in trials}
    assert scores == {6 * 0.5, 6 * 2.0}
    assert (outputs_of(ws, ran["report"]) / "summary" / "best.txt").read_text() == "2.0"
