"""An image classifier registers as one model: Model Builder's three files out of a run's
outputs or a project folder, framework `onnx-image-classification`, ModelInput → ModelOutput
with the labels, using the real tiny classifier of tests/vision (no training, no download)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import InvalidValue
from modelyard.predict import load
from modelyard.services import models, runs
from modelyard.services.model_recognition import IMAGE_CLASSIFICATION
from modelyard.services.workspaces import OpenWorkspace

pytest_plugins = ["vision.conftest"]

THREE = ["MLModel.zip", "bestModel.onnx", "bestModelMap.json"]


@pytest.fixture
def outputs(
    tmp_path: Path, tiny_model_zip: Path, tiny_onnx_model: Path, tiny_label_map: Path
) -> Path:
    """A folder shaped like an image-classification run's outputs (and its --output project)."""
    folder = tmp_path / "outputs"
    project = folder / "Flowers.Model"
    project.mkdir(parents=True)
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
        shutil.copy(source, project / source.name)
    (project / "consume_model.py").write_text("# generated")
    (folder / "evaluation").mkdir()
    (folder / "evaluation" / "metrics.json").write_text("{}")
    (folder / "guardrails.json").write_text("{}")
    return folder


def _check_image_classifier(version, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert version.framework == IMAGE_CLASSIFICATION
    assert sorted(file.path for file in version.files) == THREE
    assert version.input_schema["name"] == "ModelInput"
    assert [f["name"] for f in version.input_schema["fields"]] == ["ImageSource", "Label"]
    assert version.input_schema["preprocessing"]["crop"] == 224
    assert version.output_schema["name"] == "ModelOutput"
    assert [f["name"] for f in version.output_schema["fields"]] == ["Prediction", "Score"]
    assert version.output_schema["labels"] == labels
    assert version.properties["task"] == "image-classification"
    assert version.properties["backbone"] == "tiny-cnn"


def test_a_runs_outputs_register_as_one_image_classifier_with_its_schema(
    workspace: OpenWorkspace, outputs: Path, tiny_labels: list[str], sample_images: dict[str, Path]
) -> None:
    run = runs.start_interactive_run(workspace, "flowers", user="ana")
    workspace.artifacts.put_folder(run.id, "outputs", outputs)
    runs.end_run(workspace, run.id, RunStatus.COMPLETED)

    version = models.register_run_model(workspace, run.id, ModelVersionRequest("flowers"))
    _check_image_classifier(version, tiny_labels)
    assert version.lineage.run_id == run.id
    # The registered files are a working model package.
    predictor = load(models.model_dir(workspace, "flowers") / "MLModel.zip")
    image = next(iter(sample_images.values()))
    assert predictor.predict(str(image)).Prediction in tiny_labels


def test_a_project_folder_or_its_model_project_registers_the_same_way(
    sqlite_workspace: OpenWorkspace, outputs: Path, tiny_labels: list[str]
) -> None:
    whole = models.register_model(sqlite_workspace, outputs, ModelVersionRequest("a"))
    only_project = models.register_model(
        sqlite_workspace, outputs / "Flowers.Model", ModelVersionRequest("b")
    )
    for path in ("bestModel.onnx", "bestModelMap.json", "MLModel.zip"):
        (outputs / path).unlink()
    nested = models.register_model(sqlite_workspace, outputs, ModelVersionRequest("c"))
    for version in (whole, only_project, nested):
        _check_image_classifier(version, tiny_labels)
    assert whole.files == only_project.files == nested.files  # the same bytes, the same blobs


def test_a_framework_given_registers_the_files_as_they_are(
    sqlite_workspace: OpenWorkspace, outputs: Path
) -> None:
    version = models.register_model(
        sqlite_workspace, outputs, ModelVersionRequest("raw", framework="custom")
    )
    assert version.framework == "custom" and len(version.files) == 9


def test_a_broken_label_map_is_one_line_naming_the_file(
    sqlite_workspace: OpenWorkspace, outputs: Path
) -> None:
    shutil.rmtree(outputs / "Flowers.Model")
    (outputs / "bestModelMap.json").write_text('["cat", "cat"]')
    with pytest.raises(InvalidValue, match=r"bestModelMap\.json is not a list of distinct"):
        models.register_model(sqlite_workspace, outputs, ModelVersionRequest("x"))
    assert models.list_models(sqlite_workspace) == []
