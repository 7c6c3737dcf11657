"""The no-code scorer's model: Model Builder outputs in a folder, run by onnxruntime.

A model folder holds `MLModel.zip` (the model, its labels and its preprocessing), or
`bestModel.onnx` with `bestModelMap.json` (the labels; preprocessing is then the trainer's
default), or both (the zip wins: it says how its model was fed). Images are decoded and
preprocessed by the trainer's own code (`vision.decoding`, `vision.preprocessing`), and the
graph's names and classes are checked on the loaded session. Nothing is unpickled; nothing here
imports torch or onnx.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision import preprocessing
from modelyard.vision.decoding import IMAGE_FORMATS, ImageUnreadable, decode_image_bytes
from modelyard.vision.package import (
    LABEL_MAP_FILE,
    MODEL_FILE,
    MODEL_ZIP_FILE,
    ModelPackage,
    build_manifest,
    check_labels,
    check_signature,
    read_model_zip,
)
from modelyard.vision.predictor import execution_providers, softmax

UNKNOWN_BACKBONE: Final = "unknown"
ModelOutput = dict[str, Any]  # {"Prediction": label, "Score": {label: probability}}


@dataclass(frozen=True)
class ImageModel:
    """A loaded classifier: turns image bytes into inputs, and a batch of inputs into outputs."""

    package: ModelPackage
    session: Any  # onnxruntime.InferenceSession
    max_batch_size: int | None  # None: any batch size; 1 for a graph exported without one

    @property
    def labels(self) -> list[str]:
        return list(self.package.labels)

    def preprocess(self, data: bytes) -> npt.NDArray[np.float32]:
        """One image's bytes as the model's input [3, crop, crop]; bad bytes are InvalidValue."""
        try:
            image = decode_image_bytes(data)
        except ImageUnreadable as error:
            raise InvalidValue(
                f"the image cannot be used ({error.detail}); fix: send a "
                f"{', '.join(IMAGE_FORMATS)} image",
                reason=error.reason,
            ) from error
        array: npt.NDArray[np.float32] = preprocessing.to_input(image, self.package.preprocessing)
        return array

    def predict(self, inputs: list[npt.NDArray[np.float32]]) -> list[ModelOutput]:
        """One ModelOutput per input, in order, from one onnxruntime call."""
        feeds = {self.package.input_name: np.stack(inputs)}
        (logits,) = self.session.run([self.package.output_name], feeds)
        return [self._output_for(scores) for scores in softmax(np.asarray(logits))]

    def _output_for(self, scores: npt.NDArray[np.float64]) -> ModelOutput:
        labels = self.package.labels
        return {
            "Prediction": labels[int(np.argmax(scores))],
            "Score": {label: float(score) for label, score in zip(labels, scores, strict=True)},
        }


def holds_image_model(model_dir: Path) -> bool:
    """Whether the folder holds Model Builder outputs the no-code scorer can serve."""
    return (model_dir / MODEL_ZIP_FILE).is_file() or (model_dir / MODEL_FILE).is_file()


def load_image_model(model_dir: Path) -> ImageModel:
    """The folder's model, loaded and checked; every refusal says what to fix."""
    package = _read_package(Path(model_dir))
    session = _create_session(package, str(model_dir))
    inputs = _signature(session.get_inputs())
    check_signature(
        str(model_dir), inputs, _signature(session.get_outputs()), package.manifest, package.labels
    )
    batch_dim = inputs[package.input_name][0] if inputs[package.input_name] else None
    return ImageModel(package, session, batch_dim)


def _read_package(model_dir: Path) -> ModelPackage:
    if (model_dir / MODEL_ZIP_FILE).is_file():
        return read_model_zip(model_dir / MODEL_ZIP_FILE, check_graph=False)
    if not (model_dir / MODEL_FILE).is_file():
        raise NotFound(
            f"model folder {str(model_dir)!r} holds neither {MODEL_ZIP_FILE} nor {MODEL_FILE}; "
            "fix: pass the folder a training run wrote, or give an entry script",
            path=str(model_dir),
        )
    manifest = build_manifest(preprocessing.default_spec(), backbone=UNKNOWN_BACKBONE, run_id=None)
    labels = _read_label_map(model_dir / LABEL_MAP_FILE)
    return ModelPackage(manifest, (model_dir / MODEL_FILE).read_bytes(), labels)


def _read_label_map(path: Path) -> list[str]:
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise NotFound(
            f"label map {str(path)!r}: no such file; fix: put the {LABEL_MAP_FILE} written with "
            f"{MODEL_FILE} beside it",
            path=str(path),
        ) from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidValue(
            f"label map {str(path)!r} is not UTF-8 JSON ({error}); fix: use the "
            f"{LABEL_MAP_FILE} written with {MODEL_FILE}",
            path=str(path),
        ) from error
    return check_labels(labels, subject=f"label map {str(path)!r}")


def _create_session(package: ModelPackage, source: str) -> Any:
    import onnxruntime  # the serving extra's; imported when a model is loaded

    providers = execution_providers(onnxruntime.get_available_providers())
    options = onnxruntime.SessionOptions()
    # onnxruntime's threads spin between calls by default: a replica waiting for its next batch
    # burned ~3.5 ms of CPU per request that its own event loop and decoding needed
    # (benchmarks/serving.py: 32 clients, ~111 → ~159 requests/s with spinning off).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # As many threads as the CPUs this replica may run on (its --cpu-cores), not the host's.
    if hasattr(os, "sched_getaffinity"):
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
    try:
        return onnxruntime.InferenceSession(
            package.onnx_bytes, sess_options=options, providers=providers
        )
    except Exception as error:  # onnxruntime raises its own untyped errors
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise InvalidValue(
            f"model folder {source!r}: onnxruntime cannot load {MODEL_FILE} "
            f"({type(error).__name__}: {first_line}); fix: re-export the model with a supported "
            "ONNX opset",
            path=source,
        ) from error


def _signature(values: list[Any]) -> dict[str, list[int | None]]:
    """onnxruntime's inputs or outputs as name → shape (None where a dimension is symbolic)."""
    return {
        value.name: [dim if isinstance(dim, int) else None for dim in value.shape]
        for value in values
    }
