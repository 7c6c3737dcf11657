from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision.config import ImageClassificationConfig


def test_defaults_follow_ml_net_image_classification_trainer() -> None:
    config = ImageClassificationConfig(data="x")
    assert (config.backbone, config.weights) == ("resnet50", "imagenet")
    assert (config.epochs, config.batch_size, config.learning_rate) == (200, 10, 0.01)
    assert (config.learning_rate_decay, config.decay_every_epochs) == (0.94, 2)
    assert (config.early_stopping_patience, config.early_stopping_min_delta) == (20, 0.01)
    assert config.validation_fraction == 0.1


def test_validated_makes_paths_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    config = ImageClassificationConfig(data="data", output="project").validated()
    assert config.data == str(tmp_path / "data")
    assert config.output == str(tmp_path / "project")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "--epochs 0 is out of range"),
        ({"epochs": 2.5}, "--epochs 2.5 is out of range"),
        ({"batch_size": -1}, "--batch-size -1 is out of range"),
        ({"learning_rate": -0.01}, "--learning-rate -0.01 must be a number above 0"),
        ({"learning_rate": float("nan")}, "--learning-rate nan must be a number above 0"),
        ({"validation_fraction": 1.0}, "--validation-fraction 1.0 must be above 0 and below 1"),
        ({"validation_fraction": 0}, "--validation-fraction 0 must be above 0"),
        ({"backbone": "vgg16"}, "unknown backbone 'vgg16': choose one of resnet50"),
        ({"model_name": "1 bad"}, "model name '1 bad' is not valid"),
        ({"early_stopping_min_delta": -1.0}, "must be a number of 0 or more"),
        ({"allow_paths_outside_table": "yes"}, "allow_paths_outside_table 'yes' must be True"),
    ],
)
def test_bad_values_give_one_line_errors(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    config = ImageClassificationConfig(data=str(tmp_path), **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as raised:
        config.validated()
    assert message in raised.value.message
    assert "\n" not in raised.value.message


def test_missing_data_and_weights_file_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"data .* does not exist: pass a folder"):
        ImageClassificationConfig(data=str(tmp_path / "nope")).validated()
    with pytest.raises(NotFound, match=r"weights file .* does not exist: pass --weights imagenet"):
        ImageClassificationConfig(data=str(tmp_path), weights="missing.pt").validated()


def test_round_trips_through_a_dict_and_refuses_unknown_keys() -> None:
    config = ImageClassificationConfig(data="d", epochs=3, fine_tune=True)
    assert ImageClassificationConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidValue, match=r"unknown keys \['epoch'\]"):
        ImageClassificationConfig.from_dict({"data": "d", "epoch": 3})
