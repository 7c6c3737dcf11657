"""Built-in pipeline steps end to end, in one pipeline of real jobs (real supervisor
processes on the local compute): image_classification trains on generated shapes, batch_score
scores the images with the model it wrote, automl fits sklearn's iris in a few seconds; in a
second pipeline a sweep's best trial feeds a command. Outputs named as data assets are
registered once, with the run that produced them; an unchanged rerun reuses every step and
registers nothing new."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml
from sklearn.datasets import load_iris

from modelyard.entities import RunStatus
from modelyard.entities.pipelines import describe_change
from modelyard.services import data
from modelyard.services.pipelines.outputs import PRODUCED_BY_RUN_TAG, output_tag
from modelyard.services.pipelines.pipeline_file import pipeline_from_dict
from modelyard.services.pipelines.reuse import ReuseKeys
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import outputs_of, run_pipeline
from vision.shapes import write_shapes

PIPELINE = """
type: pipeline
experiment_name: built-ins
display_name: shapes
inputs:
  images: {type: uri_folder, path: ./shapes}
  iris: {type: uri_file, path: ./iris.csv}
jobs:
  train:
    type: image_classification
    inputs: {training_data: '${{parent.inputs.images}}'}
    training_parameters: {backbone: resnet18, weights: none, epochs: 2, batch_size: 8}
    outputs: {model: {type: custom_model, name: shapes-model}}
  score:
    type: batch_score
    inputs:
      model: '${{parent.jobs.train.outputs.model}}'
      data: '${{parent.inputs.images}}'
    mini_batch_size: 8
    outputs: {scores: {type: uri_folder, name: shapes-scores}}
  tables:
    type: automl
    task: classification
    target_column_name: target
    limits: {time_budget_s: 3}
    allowed_training_algorithms: [LogisticRegression]
    inputs: {training_data: '${{parent.inputs.iris}}'}
"""

SWEEP = """
type: pipeline
experiment_name: built-ins
display_name: tuned
jobs:
  tune:
    type: sweep
    trial:
      code: ./trial
      command: python trial.py --x ${{search_space.x}}
    search_space: {x: {type: choice, values: [1, 3]}}
    sampling_algorithm: grid
    objective: {primary_metric: score, goal: maximize}
    limits: {max_total_trials: 2, max_concurrent_trials: 2}
  report:
    code: ./report
    command: python report.py --best ${{inputs.best}} --out ${{outputs.summary}}
    inputs: {best: '${{parent.jobs.tune.outputs.best_trial}}'}
    outputs: {summary: {type: uri_folder}}
"""

TRIAL = """
import argparse, pathlib
from modelyard import Run
parser = argparse.ArgumentParser(); parser.add_argument("--x", type=int)
x = parser.parse_args().x
Run.get_context().log("score", float(x))
pathlib.Path("outputs", "x.txt").write_text(str(x))
"""

REPORT = """
import argparse, pathlib
parser = argparse.ArgumentParser(); parser.add_argument("--best"); parser.add_argument("--out")
options = parser.parse_args()
best = pathlib.Path(options.best, "x.txt").read_text()
pathlib.Path(options.out, "best.txt").write_text(best)
"""


def write_project(folder: Path, pipeline: str = PIPELINE) -> Path:
    write_shapes(folder / "shapes", per_class=6)
    load_iris(as_frame=True).frame.to_csv(folder / "iris.csv", index=False)
    for name, script in (("trial", TRIAL), ("report", REPORT)):
        (folder / name).mkdir(parents=True)
        (folder / name / f"{name}.py").write_text(textwrap.dedent(script))
    path = folder / "pipeline.yml"
    path.write_text(textwrap.dedent(pipeline))
    return path


def test_built_in_steps_run_chain_register_their_outputs_and_are_reused(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = write_project(tmp_path / "project")
    first, ran = run_pipeline(ws, path)
    assert {name: step.status for name, step in ran.items()} == {
        name: RunStatus.COMPLETED for name in ("train", "score", "tables")
    }
    # Each step is the job its command submits: the trainer's, batch scoring's, AutoML's.
    assert {"bestModel.onnx", "bestModelMap.json", "MLModel.zip"} <= {
        file.name for file in outputs_of(ws, ran["train"]).iterdir()
    }
    predictions = (outputs_of(ws, ran["score"]) / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 18
    assert (outputs_of(ws, ran["tables"]) / "bestModel.onnx").is_file()
    runs = {name: ws.store.get_run(step.run_id) for name, step in ran.items()}
    assert runs["train"].source.script == "image classification (built-in)"
    assert runs["score"].parent_id == first.id

    # The named outputs are data asset versions, tied to the runs that produced them.
    scores = data.get_data_version(ws, "data:shapes-scores@latest")
    assert scores.version == 1
    assert scores.tags[PRODUCED_BY_RUN_TAG] == ran["score"].run_id
    tags = ws.store.get_run_data(ran["score"].run_id).tags
    assert tags[output_tag("scores")] == "shapes-scores:1"
    model = data.data_path(ws, data.get_data_version(ws, "data:shapes-model@latest"))
    assert (model / "bestModel.onnx").is_file()

    second, again = run_pipeline(ws, path)
    assert {name: step.reused_from for name, step in again.items()} == {
        name: step.run_id for name, step in ran.items()
    }
    # A reused step registers nothing new.
    assert [v.version for v in data.list_versions(ws, "shapes-scores")] == [1]
    assert second.id != first.id


def test_a_sweep_steps_best_trial_feeds_a_command(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = write_project(tmp_path / "project", SWEEP)
    _, ran = run_pipeline(ws, path)
    assert (outputs_of(ws, ran["report"]) / "summary" / "best.txt").read_text() == "3"
    assert ws.store.get_run(ran["tune"].run_id).source.script == "sweep (built-in)"


def test_a_built_in_steps_key_holds_its_settings(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    """Changing a trainer's parameter changes the step's key: the change is said."""
    path = write_project(tmp_path / "project")
    spec = yaml.safe_load(path.read_text())
    pipeline = pipeline_from_dict(spec, path.parent)
    spec["jobs"]["train"]["training_parameters"]["epochs"] = 3
    changed = pipeline_from_dict(spec, path.parent)
    keys = [
        ReuseKeys(sqlite_workspace, p).resolve(p.steps["train"], {}).key
        for p in (pipeline, changed)
    ]
    assert keys[0].code == "built-in image_classification"
    assert describe_change(keys[0], keys[1]).startswith("parameter `settings` changed")
    assert json.loads(keys[1].parameters["settings"])["training_parameters"]["epochs"] == 3
