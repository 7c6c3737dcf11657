"""`modelyard predict --model MLModel.zip IMAGE...` as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard.cli.main import main
from modelyard.predict import load
from vision.conftest import UNICODE_IMAGE

# The vision tests' fixtures: a real tiny ONNX classifier, its MLModel.zip, coloured squares.
pytest_plugins = ["vision.conftest"]


def test_json_output_gives_each_image_its_prediction_and_top_scores(
    tiny_model_zip: Path, sample_images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    images = [sample_images["red.png"], sample_images[UNICODE_IMAGE]]

    code = main(
        ["predict", "--model", str(tiny_model_zip), *map(str, images), "--top", "2", "-o", "json"]
    )

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    predictor = load(tiny_model_zip)
    assert [entry["image"] for entry in printed] == [str(image) for image in images]
    for entry, image in zip(printed, images, strict=True):
        expected = predictor.predict(image)
        assert entry["prediction"] == expected.Prediction
        assert entry["score"] == pytest.approx(max(expected.Score))
        assert [top["label"] for top in entry["top"]] == [
            label for label, _ in predictor.top(expected, 2)
        ]
        assert entry["top"][0]["score"] >= entry["top"][1]["score"]


def test_table_output_names_the_image_and_its_prediction(
    tiny_model_zip: Path,
    sample_images: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = sample_images["green.jpg"]
    monkeypatch.chdir(image.parent)  # A path as short as a user types it keeps the table narrow.

    code = main(["predict", "--model", str(tiny_model_zip), "green.jpg"])

    assert code == 0
    out = capsys.readouterr().out
    assert "green.jpg" in out
    assert load(tiny_model_zip).predict(image).Prediction in out


def test_a_missing_image_is_one_line_of_error(
    tiny_model_zip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.jpg"

    code = main(["predict", "--model", str(tiny_model_zip), str(missing), "-o", "json"])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert (
        captured.err.strip() == f"error: image {str(missing)!r}: no such file; fix: check the path"
    )


def test_a_missing_model_is_one_line_of_error(
    tmp_path: Path, sample_images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["predict", "--model", str(tmp_path / "MLModel.zip"), str(sample_images["red.png"])]
    )

    error = capsys.readouterr().err.strip()
    assert code == 1
    assert error.startswith("error: model package") and "no such file" in error
    assert "\n" not in error


def test_top_must_be_at_least_one(
    tiny_model_zip: Path, sample_images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    image = str(sample_images["red.png"])

    code = main(["predict", "--model", str(tiny_model_zip), image, "--top", "0"])

    assert code == 1
    assert "--top 0: must be 1 or more" in capsys.readouterr().err
