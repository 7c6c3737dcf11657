"""`modelyard predict --model MLModel.zip IMAGE...`: classify images with a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelyard.cli.output import OutputFormat, OutputOption, emit_json, emit_table
from modelyard.errors import InvalidValue

COLUMNS = ["image", "prediction", "score", "top"]


def predict(
    images: list[Path] = typer.Argument(
        ..., metavar="IMAGE", help="image files to classify", show_default=False
    ),
    model: Path = typer.Option(
        Path("MLModel.zip"), "--model", "-m", help="the MLModel.zip a training run wrote"
    ),
    top: int = typer.Option(3, "--top", help="how many labels to show per image, best first"),
    output: OutputFormat = OutputOption,
) -> None:
    """Classify images with a trained model (MLModel.zip) and show the most probable labels."""
    if top < 1:
        raise InvalidValue(f"--top {top}: must be 1 or more; fix: pass --top 3", top=top)
    # Imported here so that commands which never predict don't need onnxruntime, Pillow, NumPy.
    from modelyard.predict import load

    predictor = load(model)
    results = [
        _result(image, predictor.top(prediction, top))
        for image, prediction in zip(images, predictor.predict_batch(images), strict=True)
    ]
    if output is OutputFormat.JSON:
        emit_json(results)
        return
    rows = [_row(result) for result in results]
    emit_table(f"Predictions ({model})", COLUMNS, rows, whole={"image"})


def _result(image: Path, ranked: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "image": str(image),
        "prediction": ranked[0][0],
        "score": ranked[0][1],
        "top": [{"label": label, "score": score} for label, score in ranked],
    }


def _row(result: dict[str, Any]) -> list[str]:
    ranked = ", ".join(f"{entry['label']} {entry['score']:.3f}" for entry in result["top"])
    return [result["image"], result["prediction"], f"{result['score']:.3f}", ranked]
