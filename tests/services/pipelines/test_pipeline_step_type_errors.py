"""A built-in step that cannot run is refused when the pipeline file is read, in one line
naming the file, the step, the field, the bad value and the fix; nothing is created."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modelyard.entities.pipelines import PortType, StepType
from modelyard.errors import InvalidValue
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_file import pipeline_from_dict, read_config
from modelyard.services.pipelines.pipeline_job import PipelineJob, config_bytes

HEAD = """
type: pipeline
experiment_name: built-ins
inputs:
  images: {type: uri_folder, path: ./images}
  epochs: 2
jobs:
"""

TRAIN = """
train:
  type: image_classification
  inputs: {training_data: '${{parent.inputs.images}}'}
  training_parameters: {backbone: resnet18, epochs: 2}
"""


def pipeline_file(tmp_path: Path, jobs: str) -> Path:
    (tmp_path / "images").mkdir(exist_ok=True)
    path = tmp_path / "pipeline.yml"
    path.write_text(textwrap.dedent(HEAD) + textwrap.indent(textwrap.dedent(jobs), "  "))

    return path


def refusal(tmp_path: Path, jobs: str) -> str:
    path = pipeline_file(tmp_path, jobs)
    with pytest.raises(InvalidValue) as raised:
        load_job_file(path)
    message = raised.value.message
    assert "\n" not in message and message.startswith(f"pipeline file {path}: ")
    return message.removeprefix(f"pipeline file {path}: ")


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        (
            "train: {type: image_classification, training_parameters: {epochs: 2}}",
            "step 'train' (image_classification) needs input 'training_data' (uri_file or"
            " uri_folder): add 'training_data: ${{parent.inputs.NAME}}' under its inputs",
        ),
        (
            TRAIN.replace("epochs: 2", "epochs: 2, number_of_epochs: 3"),
            "step 'train' (image_classification): training_parameters has unknown field"
            " 'number_of_epochs': use one of backbone,",
        ),
        (
            TRAIN.replace("training_parameters", "training_params"),
            "step 'train' (image_classification) has unknown field 'training_params': use one"
            " of compute, description, force_rerun, inputs, outputs, training_parameters, type",
        ),
        (
            TRAIN.replace("epochs: 2", "epochs: 0"),
            "step 'train' (image_classification): --epochs 0 is out of range",
        ),
        (
            TRAIN.replace("parent.inputs.images", "parent.inputs.epochs"),
            "step 'train' (image_classification) input 'training_data' is fed parent input"
            " 'epochs', which is integer: a image_classification step reads uri_file or"
            " uri_folder there",
        ),
        (
            TRAIN + "  outputs: {weights: {type: uri_folder}}\n",
            "step 'train' (image_classification) has output 'weights', which a"
            " image_classification step does not write: its outputs are model",
        ),
        (
            TRAIN + "  outputs: {model: {type: uri_file}}\n",
            "step 'train' (image_classification) output 'model' is uri_file, but a"
            " image_classification step writes it as custom_model",
        ),
        (
            TRAIN + "  outputs: {model: {type: uri_folder, name: 'not a name'}}\n",
            "step 'train' output 'model' name 'not a name':",
        ),
        (
            """
            fit:
              type: automl
              task: clustering
              target_column_name: y
              inputs: {training_data: '${{parent.inputs.images}}'}
            """,
            "step 'fit' (automl): task 'clustering' is not an AutoML task: use classification,"
            " regression or image_classification",
        ),
        (
            """
            tune:
              type: sweep
              trial: {command: 'python trial.py --x ${{search_space.x}}'}
              search_space: {x: {type: choice, values: [1, 2]}}
            """,
            "step 'tune' (sweep) needs 'objective': add it, as in 'objective: {primary_metric:"
            " accuracy, goal: maximize}'",
        ),
        (
            TRAIN
            + textwrap.dedent(
                """
            score:
              type: batch_score
              inputs: {model: '${{parent.jobs.train.outputs.model}}'}
            """
            ),
            "step 'score' (batch_score) needs input 'data' (uri_folder)",
        ),
    ],
)
def test_a_bad_built_in_step_is_one_line_naming_step_field_and_fix(
    tmp_path: Path, jobs: str, expected: str
) -> None:
    assert expected in refusal(tmp_path, jobs)


def test_a_built_in_pipeline_round_trips_through_the_drivers_config(tmp_path: Path) -> None:
    """The driver reads the pipeline back from pipeline.json: the same steps, a sweep's trial
    in its snapshot."""
    (tmp_path / "trial").mkdir()
    (tmp_path / "trial" / "trial.py").write_text("print(1)\n")
    path = pipeline_file(
        tmp_path,
        TRAIN
        + textwrap.dedent(
            """
        score:
          type: batch_score
          inputs: {model: 'model:pets@latest', data: '${{parent.inputs.images}}'}
          outputs: {scores: {type: uri_folder, name: pets-scores}}
        tune:
          type: sweep
          trial: {code: ./trial, command: 'python trial.py --x ${{search_space.x}}'}
          search_space: {x: {type: choice, values: [1, 2]}}
          objective: {primary_metric: score, goal: maximize}
        """
        ),
    )
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    steps = job.pipeline.steps
    assert steps["score"].output_ports()["scores"].asset_name == "pets-scores"
    assert steps["train"].output_ports()["model"].type is PortType.CUSTOM_MODEL
    assert steps["tune"].type is StepType.SWEEP
    snapshot = tmp_path / "snapshot"
    (snapshot / "steps" / "tune").mkdir(parents=True)
    read, _ = read_config(config_bytes(job.pipeline, job.options), snapshot)
    assert read.steps["train"].settings == steps["train"].settings
    assert read.steps["tune"].command == steps["tune"].command
    assert read.steps["tune"].code == str(snapshot / "steps" / "tune")
    assert read.steps["score"].to_dict() == steps["score"].to_dict()
    again = pipeline_from_dict(read.to_dict(), snapshot)
    assert again.to_dict() == read.to_dict()
