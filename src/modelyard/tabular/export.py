"""The best pipeline (featurization + model) as ONNX, checked against itself.

skl2onnx converts scikit-learn's parts; onnxmltools brings the LightGBM and XGBoost converters,
registered with skl2onnx once. Outputs: `label` and `probabilities` for a classifier (the
class index and one probability per class), `variable` for a regressor.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.tabular.config import CLASSIFICATION
from modelyard.tabular.featurize import NUMERIC, FeatureColumn

ONNX_OPSET: Final = {"": 17, "ai.onnx.ml": 3}
# Probabilities agree to float32's rounding; a tree's threshold met exactly by a float32
# input can send a row down the other branch, which the check is there to catch.
PROBABILITY_TOLERANCE: Final = 1e-4
RELATIVE_TOLERANCE: Final = 1e-4  # of the label's spread, for a regressor's predictions
PARITY_ROWS_MAX: Final = 2_000


@dataclass(frozen=True)
class Parity:
    rows: int
    max_abs_diff: float
    tolerance: float
    passed: bool
    compared: str  # "probabilities" or "predictions"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pipeline_of(featurizer: Any, model: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return Pipeline([("featurize", featurizer), ("model", model)])


def export_onnx(pipeline: Any, columns: Sequence[FeatureColumn]) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _register_booster_converters()
    inputs = [
        (
            c.input_name,
            FloatTensorType([None, 1]) if c.kind == NUMERIC else StringTensorType([None, 1]),
        )
        for c in columns
    ]
    model = pipeline.steps[-1][1]
    options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
    onnx_model = convert_sklearn(
        pipeline, initial_types=inputs, options=options, target_opset=ONNX_OPSET
    )
    return bytes(onnx_model.SerializeToString())


def onnx_feeds(frame: pd.DataFrame, columns: Sequence[FeatureColumn]) -> dict[str, np.ndarray]:
    """One [N, 1] array per input, from a frame made by `featurize.model_frame`."""
    return {
        c.input_name: frame[[c.input_name]].to_numpy(
            dtype=np.float32 if c.kind == NUMERIC else object
        )
        for c in columns
    }


def check_parity(
    onnx_bytes: bytes,
    pipeline: Any,
    frame: pd.DataFrame,
    columns: Sequence[FeatureColumn],
    task: str,
) -> Parity:
    """The largest difference between the pipeline's and ONNX Runtime's answers on `frame`."""
    import onnxruntime

    frame = frame.head(PARITY_ROWS_MAX)
    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, onnx_feeds(frame, columns)),
            strict=True,
        )
    )
    if task == CLASSIFICATION:
        expected = np.asarray(pipeline.predict_proba(frame), dtype=float)
        found, tolerance, compared = (
            outputs["probabilities"],
            PROBABILITY_TOLERANCE,
            "probabilities",
        )
    else:
        expected = np.asarray(pipeline.predict(frame), dtype=float).reshape(-1)
        spread = float(np.ptp(expected)) or 1.0
        found, tolerance, compared = outputs["variable"], RELATIVE_TOLERANCE * spread, "predictions"
    difference = float(
        np.max(np.abs(np.asarray(found, dtype=float).reshape(expected.shape) - expected))
    )
    return Parity(len(frame), difference, tolerance, difference <= tolerance, compared)


@functools.cache
def _register_booster_converters() -> None:
    import lightgbm
    import xgboost
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for model, alias, converter in (
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ):
        update_registered_converter(
            model,
            alias,
            calculate_linear_classifier_output_shapes,
            converter,
            options=classifier_options,
        )
    for model, alias, converter in (
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
    ):
        update_registered_converter(
            model, alias, calculate_linear_regressor_output_shapes, converter
        )
