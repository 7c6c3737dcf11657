"""`modelyard.predict`: load an MLModel.zip, classify images, Model Builder's input and output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from modelyard.errors import InvalidValue, NotFound
from modelyard.predict import ModelInput, ModelOutput, Predictor, load
from modelyard.vision import preprocessing
from modelyard.vision.dataset import decode_image
from modelyard.vision.predictor import CPU_PROVIDER, CUDA_PROVIDER, execution_providers
from vision.conftest import UNICODE_IMAGE

# The vision tests' fixtures: a real tiny ONNX classifier, its MLModel.zip, coloured squares.
pytest_plugins = ["vision.conftest"]


@pytest.fixture(scope="module")
def predictor(tiny_model_zip: Path) -> Predictor:
    return load(tiny_model_zip)


def torch_probabilities(model: torch.nn.Module, image: Path) -> list[float]:
    """What the original torch model says about the same preprocessed image."""
    batch = torch.from_numpy(preprocessing.to_batch([decode_image(image)]))
    with torch.no_grad():
        return torch.softmax(model(batch).double(), dim=1)[0].tolist()


def test_the_predictor_knows_its_labels_and_manifest(
    predictor: Predictor, tiny_labels: list[str]
) -> None:
    assert predictor.labels == tiny_labels
    assert predictor.manifest["task"] == "image-classification"


def test_scores_are_probabilities_in_label_order_and_the_prediction_is_the_best(
    predictor: Predictor, sample_images: dict[str, Path]
) -> None:
    for image in sample_images.values():
        output = predictor.predict(ModelInput(ImageSource=str(image)))

        assert len(output.Score) == 3
        assert all(0 <= score <= 1 for score in output.Score)
        assert sum(output.Score) == pytest.approx(1, abs=1e-9)
        assert output.Prediction == predictor.labels[int(np.argmax(output.Score))]


def test_scores_match_a_torch_forward_pass_of_the_same_input(
    predictor: Predictor, tiny_torch_model: torch.nn.Module, sample_images: dict[str, Path]
) -> None:
    for image in sample_images.values():
        expected = torch_probabilities(tiny_torch_model, image)

        assert predictor.predict(image).Score == pytest.approx(expected, abs=1e-4)


def test_different_images_get_different_scores(
    predictor: Predictor, sample_images: dict[str, Path]
) -> None:
    scores = {tuple(predictor.predict(image).Score) for image in sample_images.values()}

    assert len(scores) == len(sample_images)  # The model looks at the pixels, not a constant.


def test_a_model_input_a_string_and_a_path_give_the_same_output(
    predictor: Predictor, sample_images: dict[str, Path]
) -> None:
    image = sample_images[UNICODE_IMAGE]

    outputs = [
        predictor.predict(ModelInput(ImageSource=str(image), Label="cat")),
        predictor.predict(str(image)),
        predictor.predict(image),
    ]

    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_a_batch_gives_what_single_predictions_give_in_order(
    predictor: Predictor, sample_images: dict[str, Path], batch_size: int
) -> None:
    images = [*sample_images.values(), next(iter(sample_images.values()))]
    singles = [predictor.predict(image) for image in images]

    batched = predictor.predict_batch(images, batch_size=batch_size)

    assert [output.Prediction for output in batched] == [output.Prediction for output in singles]
    for single, batch in zip(singles, batched, strict=True):
        assert batch.Score == pytest.approx(single.Score, abs=1e-6)


def test_an_empty_batch_gives_no_outputs(predictor: Predictor) -> None:
    assert predictor.predict_batch([]) == []


@pytest.mark.parametrize("batch_size", [0, -1, True])
def test_a_batch_size_below_one_is_refused(predictor: Predictor, batch_size: int) -> None:
    with pytest.raises(InvalidValue, match="batch_size"):
        predictor.predict_batch([], batch_size=batch_size)


def test_top_ranks_labels_by_score(predictor: Predictor) -> None:
    output = ModelOutput("dog", [0.2, 0.7, 0.1])

    assert predictor.top(output, 2) == [("dog", 0.7), ("cat", 0.2)]
    assert predictor.top(output, 10) == [("dog", 0.7), ("cat", 0.2), ("grüne Wiese", 0.1)]


def test_a_missing_image_is_not_found_and_named(predictor: Predictor, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"

    with pytest.raises(NotFound) as caught:
        predictor.predict(missing)

    assert caught.value.message == f"image {str(missing)!r}: no such file; fix: check the path"


def test_a_file_that_is_not_an_image_is_refused_and_named(
    predictor: Predictor, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("not pixels")

    with pytest.raises(InvalidValue) as caught:
        predictor.predict(fake)

    assert str(fake) in caught.value.message
    assert "not a supported image" in caught.value.message
    assert "\n" not in caught.value.message


def test_something_other_than_an_image_path_is_refused(predictor: Predictor) -> None:
    with pytest.raises(InvalidValue, match="expected a ModelInput or an image path"):
        predictor.predict(42)  # type: ignore[arg-type]


def test_loading_a_missing_package_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        load(tmp_path / "MLModel.zip")


def test_cuda_comes_first_when_onnxruntime_has_it() -> None:
    assert execution_providers([CPU_PROVIDER]) == [CPU_PROVIDER]
    assert execution_providers([CUDA_PROVIDER, CPU_PROVIDER]) == [CUDA_PROVIDER, CPU_PROVIDER]
