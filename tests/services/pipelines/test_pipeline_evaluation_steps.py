"""split → automl → evaluate → register_model, end to end in one pipeline of real jobs (real
supervisor processes on the local compute): sklearn's iris split stratified, AutoML for tables
fitting the train part in a few seconds, its model judged on the test part (metrics logged on
the step's run and written to metrics.json) and registered with the step's run as its lineage.
An unchanged rerun reuses every step: nothing is registered twice."""

from __future__ import annotations

import csv
import json
import textwrap
from collections import Counter
from pathlib import Path

from sklearn.datasets import load_iris

from modelyard.entities import RunStatus
from modelyard.services import models
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import outputs_of, run_pipeline

PIPELINE = """
type: pipeline
experiment_name: evaluated
display_name: iris
inputs:
  iris: {type: uri_file, path: ./iris.csv}
jobs:
  split:
    type: split
    inputs: {data: '${{parent.inputs.iris}}'}
    test_size: 0.3
    seed: 1
    stratify_column: target
  fit:
    type: automl
    task: classification
    target_column_name: target
    limits: {time_budget_s: 3}
    allowed_training_algorithms: [LogisticRegression]
    inputs: {training_data: '${{parent.jobs.split.outputs.train}}'}
  judge:
    type: evaluate
    inputs:
      model: '${{parent.jobs.fit.outputs.best_model}}'
      data: '${{parent.jobs.split.outputs.test}}'
    label_column: target
  keep:
    type: register_model
    inputs: {model: '${{parent.jobs.fit.outputs.best_model}}'}
    model_name: iris-classifier
    description: the pipeline's AutoML model
    tags: {stage: dev}
"""


def test_split_automl_evaluate_and_register_run_as_one_pipeline(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    load_iris(as_frame=True).frame.to_csv(tmp_path / "iris.csv", index=False)
    path = tmp_path / "pipeline.yml"
    path.write_text(textwrap.dedent(PIPELINE))
    first, ran = run_pipeline(ws, path)
    assert {name: step.status for name, step in ran.items()} == {
        name: RunStatus.COMPLETED for name in ("split", "fit", "judge", "keep")
    }

    # The split: one table of the same name in each output, each class's share kept.
    split = outputs_of(ws, ran["split"])
    with open(split / "test" / "iris.csv", newline="") as handle:
        test = list(csv.DictReader(handle))
    assert Counter(row["target"] for row in test) == {"0": 15, "1": 15, "2": 15}
    assert len((split / "train" / "iris.csv").read_text().splitlines()) == 1 + 105

    # The evaluation: the metrics of a classifier, on the step's run and in metrics.json.
    report = json.loads((outputs_of(ws, ran["judge"]) / "metrics.json").read_text())
    assert (report["task"], report["data_kind"], report["sample_count"]) == (
        "classification",
        "table",
        45,
    )
    logged = ws.store.get_run_data(ran["judge"].run_id).latest_metrics
    assert logged["accuracy"] == report["metrics"]["accuracy"] > 0.8
    assert logged["macro_f1"] > 0.8
    assert ws.store.get_run(ran["judge"].run_id).source.script == "model evaluation (built-in)"

    # The registration: the AutoML model's files, the step's run as the version's lineage.
    (version,) = models.list_versions(ws, "iris-classifier")
    assert version.lineage.run_id == ran["keep"].run_id
    assert version.lineage.experiment == "evaluated"
    assert (version.description, dict(version.tags)) == (
        "the pipeline's AutoML model",
        {"stage": "dev"},
    )
    assert "bestModel.onnx" in {file.path for file in version.files}
    tags = ws.store.get_run_data(ran["keep"].run_id).tags
    assert tags["registered_model"] == "iris-classifier:1"

    second, again = run_pipeline(ws, path)
    assert {name: step.reused_from for name, step in again.items()} == {
        name: step.run_id for name, step in ran.items()
    }
    assert [v.version for v in models.list_versions(ws, "iris-classifier")] == [1]
    assert second.id != first.id
