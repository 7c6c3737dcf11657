"""Model folders for the replica tests, built from the vision tests' real tiny ONNX classifier
(test modules load `vision.conftest` with `pytest_plugins`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_builder_dir(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> Path:
    """A folder as a training run's --output writes it: MLModel.zip, bestModel.onnx and
    bestModelMap.json."""
    folder = tmp_path_factory.mktemp("model-builder")
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture(scope="session")
def onnx_only_dir(
    tmp_path_factory: pytest.TempPathFactory, tiny_onnx_model: Path, tiny_label_map: Path
) -> Path:
    """bestModel.onnx and bestModelMap.json without the zip."""
    folder = tmp_path_factory.mktemp("onnx-only")
    for source in (tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    return folder
