"""A pipeline whose built-in steps run on a Ray compute: split → automl → evaluate →
register_model, and a command step reading a split output, each a job on the session's real
Ray head (a node that need not see this disk: every input travels in its job's snapshot and
every output comes back as the step run's artifacts, where the next step reads it)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from compute.conftest import RayHead
from compute.test_ray_flow import (
    DEADLINE_S,
    USER,
    _create_ray_compute,
    served,  # noqa: F401 (a fixture)
)
from modelyard.entities import RunStatus
from modelyard.errors import ComputeUnavailable
from modelyard.services import jobs, models
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace, open_workspace
from pipeline_projects import outputs_of, write_pipeline
from services.pipelines.test_pipeline_evaluation_steps import PIPELINE as EVALUATED

# The local pipeline of test_pipeline_evaluation_steps, on Ray, with a command step that reads
# a split output.
COUNT_STEP = """\
  count:
    code: ./count
    command: python count.py --data ${{inputs.data}} --out ${{outputs.counted}}
    inputs: {data: '${{parent.jobs.split.outputs.test}}'}
    outputs: {counted: {type: uri_folder}}
"""
PIPELINE = EVALUATED.replace("jobs:\n", "settings: {default_compute: ray-pool}\njobs:\n", 1)
PIPELINE = PIPELINE.replace("  fit:\n", COUNT_STEP + "  fit:\n", 1)
PIPELINE = PIPELINE.replace("model_name: iris-classifier", "model_name: iris-on-ray")

COUNT = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--data"); parser.add_argument("--out")
options = parser.parse_args()
rows = pathlib.Path(options.data, "iris.csv").read_text().splitlines()
pathlib.Path(options.out, "rows.txt").write_text(str(len(rows) - 1))
"""


def test_built_in_steps_run_on_ray_reading_and_writing_through_the_workspace(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
) -> None:
    pytest.importorskip("sklearn", reason="the 'automl' extra is not installed")
    from sklearn.datasets import load_iris

    ws = served
    _create_ray_compute(ws, "ray-pool", ray_head.address)
    load_iris(as_frame=True).frame.to_csv(tmp_path / "iris.csv", index=False)
    (tmp_path / "count").mkdir()
    (tmp_path / "count" / "count.py").write_text(textwrap.dedent(COUNT))
    job = load_job_file(write_pipeline(tmp_path, PIPELINE))
    assert isinstance(job, PipelineJob)
    # A user of the workspace: each step's Ray job reports with a token of its submitter's.
    parent = submit_pipeline(ws, job, user=USER)
    assert jobs.wait_for_completion(ws, parent.id, timeout_s=DEADLINE_S).status is (
        RunStatus.COMPLETED
    ), ws.store.get_run(parent.id).error
    ran = {step.step: step for step in pipeline_steps(ws, parent.id)}

    steps = {name: ws.store.get_run(step.run_id) for name, step in ran.items()}
    assert {name: (run.status, run.compute_target) for name, run in steps.items()} == {
        name: (RunStatus.COMPLETED, "ray-pool")
        for name in ("split", "count", "fit", "judge", "keep")
    }
    with open(outputs_of(ws, ran["split"]) / "test" / "iris.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 45
    assert (outputs_of(ws, ran["count"]) / "counted" / "rows.txt").read_text() == "45"
    report = json.loads((outputs_of(ws, ran["judge"]) / "metrics.json").read_text())
    assert report["sample_count"] == 45
    assert ws.store.get_run_data(ran["judge"].run_id).latest_metrics["accuracy"] > 0.8
    (version,) = models.list_versions(ws, "iris-on-ray")
    assert version.lineage.run_id == ran["keep"].run_id
    assert "bestModel.onnx" in {file.path for file in version.files}


def test_a_pipeline_with_steps_on_ray_is_refused_where_no_server_is_known(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
) -> None:
    """Submitted beside the workspace, not through its server: the driver could not launch
    its Ray steps, so nothing is created."""
    _create_ray_compute(served, "ray-pool", ray_head.address)
    (tmp_path / "iris.csv").write_text("a,target\n1,x\n2,y\n")
    (tmp_path / "count").mkdir()
    (tmp_path / "count" / "count.py").write_text(textwrap.dedent(COUNT))
    job = load_job_file(write_pipeline(tmp_path, PIPELINE))
    assert isinstance(job, PipelineJob)
    beside = open_workspace(served.root)
    try:
        with pytest.raises(ComputeUnavailable) as raised:
            submit_pipeline(beside, job, user=USER)
    finally:
        beside.close()
    assert raised.value.message == (
        "step 'split' runs on compute ray-pool, whose jobs run away from this machine and"
        " report to the workspace's server, and this submission does not go through one:"
        " submit the pipeline through it"
        " (`modelyard workspace connect URL`, then `modelyard job create`)"
    )
    assert served.store.list_runs("evaluated") == []


def test_an_image_classifiers_validation_data_travels_in_its_snapshot_to_ray(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
) -> None:
    """The validation folder goes with the job as the training folder does (a Ray node need
    not see this disk), and the job's config names both where its snapshot holds them."""
    pytest.importorskip("torch", reason="the 'vision' extra is not installed")
    from modelyard.services import training
    from modelyard.vision.config import ImageClassificationConfig
    from vision.shapes import write_shapes

    _create_ray_compute(served, "ray-pool", ray_head.address)
    config = ImageClassificationConfig(
        data=str(write_shapes(tmp_path / "train", per_class=2)),
        validation_data=str(write_shapes(tmp_path / "check", per_class=1)),
        compute_target="ray-pool",
    ).validated()
    job = training.image_classification_job(served, "shapes", config, "shapes")
    assert dict(job.folders) == {"data": tmp_path / "train", "validation_data": tmp_path / "check"}
    sent = json.loads(job.files["config.json"])
    assert (sent["data"], sent["validation_data"]) == ("data", "validation_data")
