"""Shared vision fixtures: a real tiny classifier exported to ONNX, packaged, and test images.

The model is a small torch module (conv → ReLU → average pool → linear, 3 classes) exported the
way the trainer exports: input `input1` [N, 3, 224, 224], output `output1` logits [N, 3], with a
dynamic batch axis. Tests outside tests/vision get these fixtures with
`pytest_plugins = ["vision.conftest"]`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image

from modelyard.vision.codegen import StarterProject, generate_starter
from modelyard.vision.package import (
    INPUT_NAME,
    LABEL_MAP_FILE,
    MODEL_FILE,
    MODEL_ZIP_FILE,
    OUTPUT_NAME,
    write_label_map,
    write_model_zip,
)

TINY_LABELS = ["cat", "dog", "grüne Wiese"]
WHITE = (255, 255, 255)
# name → (colour of the square, image size); sizes differ so resize and crop both matter.
SAMPLE_IMAGES = {
    "red.png": ((220, 30, 30), (300, 200)),
    "green.jpg": ((30, 200, 40), (180, 260)),
    "blue square — ünï code.png": ((20, 40, 230), (224, 224)),
}
UNICODE_IMAGE = "blue square — ünï code.png"


class TinyClassifier(torch.nn.Module):
    def __init__(self, classes: int = len(TINY_LABELS)) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.head = torch.nn.Linear(8, classes)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        features = self.pool(torch.relu(self.conv(batch)))
        return self.head(torch.flatten(features, 1))


def export_onnx(model: torch.nn.Module, path: Path) -> Path:
    dummy = torch.zeros(1, 3, 224, 224)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # The TorchScript exporter is deprecated, still the one.
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            dynamo=False,
        )
    return path


def save_square(path: Path, colour: tuple[int, int, int], size: tuple[int, int]) -> Path:
    """A coloured square on a white background."""
    image = Image.new("RGB", size, WHITE)
    width, height = size
    image.paste(colour, (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    image.save(path)
    return path


@pytest.fixture(scope="session")
def tiny_torch_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return TinyClassifier().eval()


@pytest.fixture(scope="session")
def tiny_labels() -> list[str]:
    return list(TINY_LABELS)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-model")


@pytest.fixture(scope="session")
def tiny_onnx_model(tiny_torch_model: torch.nn.Module, tiny_model_dir: Path) -> Path:
    return export_onnx(tiny_torch_model, tiny_model_dir / MODEL_FILE)


@pytest.fixture(scope="session")
def tiny_label_map(tiny_labels: list[str], tiny_model_dir: Path) -> Path:
    path = tiny_model_dir / LABEL_MAP_FILE
    write_label_map(path, tiny_labels)
    return path


@pytest.fixture(scope="session")
def tiny_model_zip(tiny_onnx_model: Path, tiny_labels: list[str], tiny_model_dir: Path) -> Path:
    path = tiny_model_dir / MODEL_ZIP_FILE
    write_model_zip(path, tiny_onnx_model, tiny_labels, backbone="tiny-cnn", run_id="run-1")
    return path


@pytest.fixture(scope="session")
def sample_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Name → path of each image in SAMPLE_IMAGES, one with spaces and non-ASCII letters."""
    folder = tmp_path_factory.mktemp("images")
    return {
        name: save_square(folder / name, colour, size)
        for name, (colour, size) in SAMPLE_IMAGES.items()
    }


@pytest.fixture(scope="session")
def starter_project(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
    sample_images: dict[str, Path],
) -> StarterProject:
    """`Flowers.Model/` and `Flowers.ConsoleApp/` generated for the tiny model (read only)."""
    return generate_starter(
        tmp_path_factory.mktemp("starter"),
        "Flowers",
        model_zip=tiny_model_zip,
        onnx_model=tiny_onnx_model,
        label_map=tiny_label_map,
        sample_image=sample_images[UNICODE_IMAGE],
    )
