"""Recognising what is being registered: an image classifier as Model Builder writes it.

An image-classification run's `outputs/` and a `--output` project folder both hold
`bestModel.onnx`, `bestModelMap.json` and `MLModel.zip` at the top (the project's
`<Name>.Model/` holds them too). Such a folder registers as one model of those three files, with
framework `onnx-image-classification` and Model Builder's input and output schema
(`ModelInput(ImageSource, Label)` → `ModelOutput(Prediction, Score)`), the labels taken from the
label map. The evaluation, guardrails and starter code stay with the run.

The file names are spelled out here, not imported from `vision/`: recognising a model needs no
Pillow, NumPy or onnx (the base install registers models too).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from modelyard.errors import InvalidValue

IMAGE_CLASSIFICATION: Final = "onnx-image-classification"
MODEL_FILE: Final = "bestModel.onnx"  # vision/package.py MODEL_FILE
LABEL_MAP_FILE: Final = "bestModelMap.json"  # vision/package.py LABEL_MAP_FILE
MODEL_ZIP_FILE: Final = "MLModel.zip"  # vision/package.py MODEL_ZIP_FILE
MANIFEST_FILE: Final = "manifest.json"
MODEL_BUILDER_FILES: Final = (MODEL_FILE, LABEL_MAP_FILE, MODEL_ZIP_FILE)
MODEL_PROJECT_SUFFIX: Final = ".Model"  # vision/codegen.py: `<Name>.Model/`
_MANIFEST_MAX_BYTES: Final = 16 * 1024**2


@dataclass(frozen=True)
class Recognised:
    """What registering a recognised folder records instead of every file in it."""

    files: dict[str, Path]  # the model's relative path → the file to copy
    framework: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    properties: dict[str, str] = field(default_factory=dict)


def recognise(files: dict[str, Path]) -> Recognised | None:
    """An image classifier among `files` (relative path → file), or None."""
    prefix = _model_builder_prefix(files)
    if prefix is None:
        return None
    chosen = {name: files[prefix + name] for name in MODEL_BUILDER_FILES}
    labels = _labels(chosen[LABEL_MAP_FILE])
    manifest = _manifest(chosen[MODEL_ZIP_FILE])
    preprocessing = manifest.get("preprocessing") if isinstance(manifest, dict) else None
    properties = {"task": "image-classification", "labels": json.dumps(labels)}
    if isinstance(manifest.get("backbone"), str):
        properties["backbone"] = manifest["backbone"]
    return Recognised(
        files=chosen,
        framework=IMAGE_CLASSIFICATION,
        input_schema=image_input_schema(preprocessing),
        output_schema=image_output_schema(labels),
        properties=properties,
    )


def image_input_schema(preprocessing: Any = None) -> dict[str, Any]:
    """Model Builder's ModelInput: the image (a path, or its bytes when served) and its label
    (read in training, ignored when predicting)."""
    return {
        "name": "ModelInput",
        "fields": [
            {"name": "ImageSource", "type": "image", "description": "an image file or its bytes"},
            {"name": "Label", "type": "string", "description": "the true label; unused to predict"},
        ],
        "preprocessing": preprocessing if isinstance(preprocessing, dict) else None,
    }


def image_output_schema(labels: list[str]) -> dict[str, Any]:
    """Model Builder's ModelOutput: the predicted label and every label's probability."""
    return {
        "name": "ModelOutput",
        "fields": [
            {"name": "Prediction", "type": "string", "description": "the most probable label"},
            {"name": "Score", "type": "map<string, float32>", "description": "label → probability"},
        ],
        "labels": labels,
    }


def _model_builder_prefix(files: dict[str, Path]) -> str | None:
    """ "" when the three files are at the top; `X.Model/` when only one project holds them."""
    if all(name in files for name in MODEL_BUILDER_FILES):
        return ""
    projects = {
        path.split("/", 1)[0] + "/"
        for path in files
        if path.count("/") == 1 and path.split("/", 1)[0].endswith(MODEL_PROJECT_SUFFIX)
    }
    found = [p for p in sorted(projects) if all(p + name in files for name in MODEL_BUILDER_FILES)]
    return found[0] if len(found) == 1 else None


def _labels(label_map: Path) -> list[str]:
    try:
        labels = json.loads(label_map.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _unreadable(label_map, f"is not UTF-8 JSON ({error})") from error
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(label, str) and label.strip() for label in labels)
        or len(set(labels)) != len(labels)
    ):
        raise _unreadable(label_map, "is not a list of distinct, non-empty labels")
    return labels


def _manifest(model_zip: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(model_zip) as archive:
            info = archive.getinfo(MANIFEST_FILE)
            if info.file_size > _MANIFEST_MAX_BYTES:
                raise _unreadable(model_zip, f"has a {info.file_size}-byte {MANIFEST_FILE}")
            manifest = json.loads(archive.read(info).decode("utf-8"))
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as error:
        raise _unreadable(model_zip, f"is not a model package ({error})") from error
    if not isinstance(manifest, dict):
        raise _unreadable(model_zip, f"has a {MANIFEST_FILE} that is not a JSON object")
    return manifest


def _unreadable(path: Path, problem: str) -> InvalidValue:
    return InvalidValue(
        f"{path} {problem}: register the folder a Modelyard image-classification run wrote"
        " (its outputs, or the --output project), or pass --framework to register the files"
        " as they are",
        path=str(path),
    )
