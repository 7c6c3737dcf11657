"""Predicting with a trained image classifier, the way Model Builder's generated code does::

    from modelyard.predict import ModelInput, load

    predictor = load("MLModel.zip")
    output = predictor.predict(ModelInput(ImageSource="cat.jpg"))
    output.Prediction  # "cat"
    output.Score       # [0.97, 0.03]: one probability per label, in predictor.labels order

The model runs in onnxruntime from the package's bytes (nothing is unpickled), and images are
decoded and preprocessed by the same code as in training (`modelyard.vision.preprocessing`).
Users import it as `modelyard.predict`, which first checks that the 'vision' extra is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from PIL import Image

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision import preprocessing
from modelyard.vision.dataset import IMAGE_FORMATS, ImageUnreadable, decode_image
from modelyard.vision.package import MODEL_FILE, ModelPackage, read_model_zip

__all__ = ["ModelInput", "ModelOutput", "Predictor", "load"]

DEFAULT_BATCH_SIZE = 32
CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"


@dataclass(frozen=True)
class ModelInput:
    """One image to classify; Label (the known answer, if any) is carried, not used."""

    ImageSource: str
    Label: str | None = None


@dataclass(frozen=True)
class ModelOutput:
    """The best label and every label's probability, in the label map's order."""

    Prediction: str
    Score: list[float]


ImageInput: TypeAlias = ModelInput | str | Path


def load(path: str | Path) -> Predictor:
    """A predictor for the MLModel.zip at `path`, checked before anything runs."""
    package = read_model_zip(path)
    return Predictor(package, _create_session(package, str(path)))


class Predictor:
    """Classifies images with one loaded model; reuse it, creating a session is the slow part."""

    def __init__(self, package: ModelPackage, session: Any) -> None:
        self._package = package
        self._session = session

    @property
    def labels(self) -> list[str]:
        return list(self._package.labels)

    @property
    def manifest(self) -> dict[str, Any]:
        return self._package.manifest

    def predict(self, input: ImageInput) -> ModelOutput:
        return self.predict_batch([input])[0]

    def predict_batch(
        self, inputs: Iterable[ImageInput], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[ModelOutput]:
        """One output per input, in order; images are decoded `batch_size` at a time."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidValue(
                f"batch_size {batch_size!r} is not a positive whole number; fix: pass 1 or more",
                batch_size=batch_size,
            )
        paths = [_image_path(item) for item in inputs]
        outputs: list[ModelOutput] = []
        for start in range(0, len(paths), batch_size):
            outputs.extend(self._predict_chunk(paths[start : start + batch_size]))
        return outputs

    def top(self, output: ModelOutput, count: int) -> list[tuple[str, float]]:
        """The `count` most probable labels with their scores, best first."""
        ranked = sorted(zip(self._package.labels, output.Score, strict=True), key=_by_score)
        return ranked[: max(count, 0)]

    def _predict_chunk(self, paths: Sequence[Path]) -> list[ModelOutput]:
        images = [_read_image(path) for path in paths]
        batch = preprocessing.to_batch(images, self._package.preprocessing)
        feeds = {self._package.input_name: batch}
        (logits,) = self._session.run([self._package.output_name], feeds)
        return [self._output_for(scores) for scores in softmax(np.asarray(logits))]

    def _output_for(self, scores: npt.NDArray[np.float64]) -> ModelOutput:
        best = int(np.argmax(scores))
        return ModelOutput(self._package.labels[best], [float(score) for score in scores])


def _by_score(pair: tuple[str, float]) -> float:
    return -pair[1]


def softmax(logits: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Row-wise probabilities, in float64 and shifted by the row maximum so exp cannot overflow."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    probabilities: npt.NDArray[np.float64] = exponentials / exponentials.sum(axis=1, keepdims=True)
    return probabilities


def _image_path(item: ImageInput) -> Path:
    if isinstance(item, ModelInput):
        return Path(item.ImageSource)
    if isinstance(item, str | Path):
        return Path(item)
    raise InvalidValue(
        f"cannot predict {item!r}: expected a ModelInput or an image path; "
        "fix: pass ModelInput(ImageSource='photo.jpg') or the path itself",
        input=repr(item),
    )


def _read_image(path: Path) -> Image.Image:
    """The image decoded as in training; a bad file becomes an error that names it."""
    try:
        return decode_image(path)
    except ImageUnreadable as error:
        if error.reason == "missing":
            raise NotFound(
                f"image {str(path)!r}: no such file; fix: check the path",
                path=str(path),
            ) from error
        raise InvalidValue(
            f"image {str(path)!r} cannot be used ({error.detail}); fix: pass a "
            f"{', '.join(IMAGE_FORMATS)} image",
            path=str(path),
            reason=error.reason,
        ) from error


def execution_providers(available: Iterable[str]) -> list[str]:
    """CUDA first where onnxruntime has it, CPU always, so a GPU is used when there is one."""
    return [CUDA_PROVIDER, CPU_PROVIDER] if CUDA_PROVIDER in set(available) else [CPU_PROVIDER]


def _create_session(package: ModelPackage, source: str) -> Any:
    # Imported here: `modelyard` commands that never predict shouldn't pay for onnxruntime.
    import onnxruntime

    providers = execution_providers(onnxruntime.get_available_providers())
    try:
        return onnxruntime.InferenceSession(package.onnx_bytes, providers=providers)
    except Exception as error:  # onnxruntime raises its own untyped errors
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InvalidValue(
            f"model package {source!r}: onnxruntime cannot load {MODEL_FILE} "
            f"({type(error).__name__}: {first_line}); fix: re-export the model with a supported "
            "ONNX opset and re-package it",
            path=source,
        ) from error
