"""A pipeline sweep whose trials run on a Ray compute: its trial is a registered component
reading a data input, and each trial (a job on the session's real Ray head, a node that need
not see this disk) reads the copy its snapshot carries, not this disk's path; it writes into
its output folder without making it, and the best trial's output feeds a step on Ray too."""

from __future__ import annotations

import json
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
from pipeline_projects import outputs_of, write

# Sums the numbers of the data folder's files; its score is that times the rate; its model
# folder (not made here) says which path it read and what it found there.
GAUGE = """
import argparse, json, pathlib
from modelyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--data"); parser.add_argument("--lr", type=float); parser.add_argument("--out")
options = parser.parse_args()
total = sum(int(x) for f in pathlib.Path(options.data).glob("*.txt") for x in f.read_text().split())
Run.get_context().log("score", total * options.lr)
read = {"data": options.data, "total": total, "lr": options.lr}
pathlib.Path(options.out, "read.json").write_text(json.dumps(read))
"""

GAUGE_COMPONENT = """
name: gauge
inputs:
  data: {type: uri_folder}
  lr: {type: number, default: 0.1}
outputs:
  model: {type: uri_folder}
code: ./gauge
command: python gauge.py --data ${{inputs.data}} --lr ${{inputs.lr}} --out ${{outputs.model}}
"""

REPORT = """
import argparse, pathlib
parser = argparse.ArgumentParser(); parser.add_argument("--best"); parser.add_argument("--out")
options = parser.parse_args()
best = pathlib.Path(options.best, "model", "read.json").read_text()
pathlib.Path(options.out, "best.json").write_text(best)
"""

PIPELINE = """
type: pipeline
experiment_name: gauged
inputs:
  raw: {type: uri_folder, path: ./data}
settings: {default_compute: ray-pool}
jobs:
  tune:
    type: sweep
    trial: azureml:gauge:1
    inputs: {data: '${{parent.inputs.raw}}'}
    search_space: {lr: {type: choice, values: [0.5, 2.0]}}
    sampling_algorithm: grid
    objective: {primary_metric: score, goal: maximize}
    limits: {max_total_trials: 2, max_concurrent_trials: 2}
  report:
    code: ./report
    command: python report.py --best ${{inputs.best}} --out ${{outputs.summary}}
    inputs: {best: '${{parent.jobs.tune.outputs.best_trial}}'}
    outputs: {summary: {type: uri_folder}}
"""


def test_a_sweeps_trials_on_ray_read_their_carried_data_and_feed_the_best_downstream(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
) -> None:
    ws = served
    _create_ray_compute(ws, "ray-pool", ray_head.address)
    write(tmp_path / "components" / "gauge" / "gauge.py", GAUGE)
    components.create_component(ws, write(tmp_path / "components" / "gauge.yml", GAUGE_COMPONENT))
    write(tmp_path / "project" / "data" / "a.txt", "1 2 3")
    write(tmp_path / "project" / "report" / "report.py", REPORT)
    job = load_job_file(write(tmp_path / "project" / "pipeline.yml", PIPELINE), ws)
    assert isinstance(job, PipelineJob)

    parent = submit_pipeline(ws, job, user=USER)
    ended = jobs.wait_for_completion(ws, parent.id, timeout_s=DEADLINE_S)
    assert ended.status is RunStatus.COMPLETED, ended.error
    ran = {step.step: step for step in pipeline_steps(ws, parent.id)}
    assert ws.store.get_run(ran["report"].run_id).compute_target == "ray-pool"

    # Each trial ran on Ray and read the data input where its snapshot carried it (a path
    # relative to its working folder, not this disk's), in an output folder it did not make.
    trials = ws.store.list_runs(parent_id=ran["tune"].run_id)
    assert {(t.status, t.compute_target) for t in trials} == {(RunStatus.COMPLETED, "ray-pool")}
    read = [
        json.loads(ws.local_artifacts.local_path(t.id, "outputs/model/read.json").read_text())
        for t in trials
    ]
    assert sorted((r["data"], r["total"], r["lr"]) for r in read) == [
        ("inputs/data", 6, 0.5),
        ("inputs/data", 6, 2.0),
    ]
    scores = {ws.store.get_run_data(t.id).latest_metrics["score"] for t in trials}
    assert scores == {3.0, 12.0}
    best = json.loads((outputs_of(ws, ran["report"]) / "summary" / "best.json").read_text())
    assert best == {"data": "inputs/data", "total": 6, "lr": 2.0}
