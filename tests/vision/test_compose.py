"""bestModel.onnx composed from the cached featurizer and the head, without torch.onnx."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from modelyard.errors import InvalidValue
from modelyard.vision.compose import HeadWeights, compose_with_head
from modelyard.vision.features import export_onnx
from modelyard.vision.training import Head

CLASSES = 3


class TinyBackbone(torch.nn.Module):
    """conv → ReLU → average pool → flatten: [N, 3, 224, 224] → [N, 8], like a backbone."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, kernel_size=3, stride=4, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(torch.relu(self.conv(batch))), 1)


@pytest.fixture(scope="module")
def backbone() -> torch.nn.Module:
    torch.manual_seed(0)
    return TinyBackbone().eval()


def pixels(count: int) -> torch.Tensor:
    """Inputs spread like preprocessed images (roughly −2 to 2)."""
    return torch.rand(count, 3, 224, 224) * 4 - 2


@pytest.fixture(scope="module")
def head(backbone: torch.nn.Module) -> Head:
    torch.manual_seed(1)
    with torch.no_grad():
        return Head.fitted_to(backbone(pixels(16)), CLASSES).eval()


@pytest.fixture(scope="module")
def featurizer(backbone: torch.nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cache") / "featurizer.onnx"
    export_onnx(backbone, path, 224, output_name="features")
    return path


def head_weights(head: Head) -> HeadWeights:
    return HeadWeights(
        head.mean.numpy(),
        head.std.numpy(),
        head.linear.weight.detach().numpy(),
        head.linear.bias.detach().numpy(),
    )


def dims(value: onnx.ValueInfoProto) -> list[str | int]:
    return [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]


def test_the_composed_model_passes_the_checker_with_the_package_names_and_a_dynamic_batch(
    featurizer: Path, head: Head, tmp_path: Path
) -> None:
    path = tmp_path / "bestModel.onnx"
    compose_with_head(featurizer, head_weights(head), path)

    onnx.checker.check_model(str(path), full_check=True)
    graph = onnx.load(str(path)).graph
    initializers = {initializer.name for initializer in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    assert [(value.name, dims(value)) for value in inputs] == [("input1", ["batch", 3, 224, 224])]
    assert [(value.name, dims(value)) for value in graph.output] == [("output1", ["batch", 3])]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        pixels = np.zeros((batch, 3, 224, 224), dtype=np.float32)
        assert session.run(["output1"], {"input1": pixels})[0].shape == (batch, CLASSES)


def test_the_composed_model_computes_what_the_torch_backbone_and_head_compute(
    backbone: torch.nn.Module, featurizer: Path, head: Head, tmp_path: Path
) -> None:
    path = tmp_path / "bestModel.onnx"
    compose_with_head(featurizer, head_weights(head), path)
    batch = pixels(6)

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    composed = session.run(["output1"], {"input1": batch.numpy()})[0]
    with torch.no_grad():
        expected = torch.nn.Sequential(backbone, head)(batch).numpy()

    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(composed, expected, rtol=0, atol=1e-4)
    assert not np.allclose(composed[0], composed[1])  # each image its own logits


def test_the_featurizer_input_is_renamed_to_input1(
    featurizer: Path, head: Head, tmp_path: Path
) -> None:
    model = onnx.load(str(featurizer))
    model.graph.input[0].name = "pixels"
    for node in model.graph.node:
        node.input[:] = ["pixels" if name == "input1" else name for name in node.input]
    renamed = tmp_path / "renamed.onnx"
    onnx.save(model, str(renamed))
    path = tmp_path / "bestModel.onnx"

    compose_with_head(renamed, head_weights(head), path)

    onnx.checker.check_model(str(path), full_check=True)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [value.name for value in session.get_inputs()] == ["input1"]


def test_a_featurizer_with_two_outputs_is_refused_and_nothing_is_written(
    featurizer: Path, head: Head, tmp_path: Path
) -> None:
    model = onnx.load(str(featurizer))
    model.graph.output.append(onnx.helper.make_tensor_value_info("extra", 1, None))
    odd = tmp_path / "odd.onnx"
    onnx.save(model, str(odd))
    path = tmp_path / "bestModel.onnx"

    with pytest.raises(InvalidValue, match="2 outputs, expected 1"):
        compose_with_head(odd, head_weights(head), path)
    assert not path.exists()
