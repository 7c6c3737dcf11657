"""An image_classification step's optional `validation_data` input (Azure's name): the trainer
validates on those images instead of holding out a share of the training data; a validation
set with a label the training data lacks fails the run before any training, saying so."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from modelyard.entities import Run, RunStatus
from modelyard.errors import NotFound
from modelyard.services import jobs, training
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.config import ImageClassificationConfig
from pipeline_projects import run_pipeline
from vision.shapes import write_shapes

PIPELINE = """
type: pipeline
experiment_name: validated
inputs:
  train: {type: uri_folder, path: ./train}
  check: {type: uri_folder, path: ./check}
jobs:
  classify:
    type: image_classification
    inputs:
      training_data: '${{parent.inputs.train}}'
      validation_data: '${{parent.inputs.check}}'
    training_parameters: {backbone: resnet18, weights: none, epochs: 2, batch_size: 8}
"""


def _log(ws: OpenWorkspace, run_id: str) -> str:
    return (ws.local_artifacts.run_root(run_id) / STD_LOG).read_text()


def test_an_image_classification_step_validates_on_its_validation_data(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    write_shapes(tmp_path / "train", per_class=6)
    write_shapes(tmp_path / "check", per_class=2, seed=1)
    (tmp_path / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
    _, ran = run_pipeline(ws, tmp_path / "pipeline.yml")
    run_id = ran["classify"].run_id
    # Every training image trains; the validation folder's 6 validate.
    assert "split: 18 training and 6 validation images" in _log(ws, run_id)
    validation = ws.store.get_metric_history(run_id, "validation_accuracy")
    assert [point.step for point in validation] == [1, 2]
    params = ws.store.get_run_data(run_id).params
    assert params["validation_data"] == str(tmp_path / "check")


def test_validation_data_with_a_label_the_training_lacks_fails_before_training(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    write_shapes(tmp_path / "train", per_class=6)
    check = write_shapes(tmp_path / "check", per_class=2, seed=1)
    shutil.copytree(check / "red circle", check / "purple star")
    config = ImageClassificationConfig(
        data=str(tmp_path / "train"),
        validation_data=str(check),
        backbone="resnet18",
        weights="none",
        epochs=2,
    )
    run = training.submit_image_classification(ws, "validated", config)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=300)
    assert final.status is RunStatus.FAILED
    assert final.error == (
        f"validation data {str(check)!r} has labels the training data lacks: purple star:"
        " validate on images of the training data's labels (blue triangle, green square,"
        " red circle)"
    )
    assert "featurize" not in _log(ws, run.id)


def test_validation_data_that_does_not_exist_is_refused_when_configured(tmp_path: Path) -> None:
    config = ImageClassificationConfig(data=str(tmp_path), validation_data=str(tmp_path / "no"))
    with pytest.raises(NotFound) as raised:
        config.validated()
    assert raised.value.message.startswith(f"--validation-data {str(tmp_path / 'no')!r} does not")


def _train_with_a_training_image_in(ws: OpenWorkspace, tmp_path: Path, label: str) -> Run:
    """Train on shapes, validating on others plus a copy of a red circle of the training data
    filed under `label`; the run as it ended."""
    train = write_shapes(tmp_path / "train", per_class=6)
    check = write_shapes(tmp_path / "check", per_class=2, seed=1)
    shutil.copy(train / "red circle" / "image 0.png", check / label / "copied.png")
    config = ImageClassificationConfig(
        data=str(train), validation_data=str(check), backbone="resnet18", weights="none", epochs=1
    )
    run = training.submit_image_classification(ws, "validated", config)
    return jobs.wait_for_completion(ws, run.id, timeout_s=300)


def test_validation_images_that_are_training_images_are_left_out_and_counted(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    final = _train_with_a_training_image_in(ws, tmp_path, "red circle")
    log = _log(ws, final.id)
    assert final.status is RunStatus.COMPLETED, log
    assert "validation data: 1 of its 7 images left out, being images of the training" in log
    assert "split: 18 training and 6 validation images" in log
    properties = ws.store.get_run_data(final.id).properties
    assert properties["validation_duplicates_left_out"] == "1"
    assert properties["validation_usable_count"] == "6"


def test_an_image_labelled_differently_in_the_two_sets_fails_before_training(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    final = _train_with_a_training_image_in(ws, tmp_path, "green square")
    assert final.status is RunStatus.FAILED
    assert final.error is not None
    assert final.error.startswith(
        "the same image is labelled differently in the validation and training data:"
    )
    assert "('green square') is" in final.error and "('red circle')" in final.error
    assert "featurize" not in _log(ws, final.id)
