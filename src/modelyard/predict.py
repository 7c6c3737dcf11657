"""Predicting with a trained image classifier, the way Model Builder's generated code does::

    from modelyard.predict import ModelInput, load

    predictor = load("MLModel.zip")
    output = predictor.predict(ModelInput(ImageSource="cat.jpg"))
    output.Prediction  # "cat"
    output.Score       # [0.97, 0.03]: one probability per label, in predictor.labels order

The public name of `modelyard.vision.predictor`. Importing it without the 'vision' extra raises
MissingExtra (an ImportError) naming the extra to install.
"""

from __future__ import annotations

from modelyard.extras import require_extra

# What predicting needs of the extra: decoding, arrays, ONNX and its runtime (not PyTorch).
require_extra("vision", "modelyard.predict", modules=("PIL", "numpy", "onnx", "onnxruntime"))

from modelyard.vision.predictor import ModelInput, ModelOutput, Predictor, load  # noqa: E402

__all__ = ["ModelInput", "ModelOutput", "Predictor", "load"]
