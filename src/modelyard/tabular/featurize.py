"""The featurization that travels with the model: each column an ONNX input of its own
(numbers as float32, text as strings), missing numbers imputed with the median, text one-hot
encoded with missing text as a category of its own (the empty string)."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.tabular.guardrails import is_numeric_column

NUMERIC: Final = "numeric"
TEXT: Final = "text"
MISSING_TEXT: Final = ""


@dataclass(frozen=True)
class FeatureColumn:
    name: str  # as in the table
    input_name: str  # the ONNX input's (and starter code's field) name
    kind: str  # NUMERIC or TEXT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def feature_columns(features: pd.DataFrame) -> list[FeatureColumn]:
    """Input names are identifiers (ONNX converters rename others, and code needs them)."""
    taken: set[str] = set()
    columns = []
    for name in features.columns:
        kind = NUMERIC if is_numeric_column(features[name]) else TEXT
        columns.append(FeatureColumn(str(name), _identifier(str(name), taken), kind))
    return columns


def model_frame(features: pd.DataFrame, columns: Sequence[FeatureColumn]) -> pd.DataFrame:
    """The features as the model takes them: renamed to input names, numbers float32."""
    data = {}
    for column in columns:
        values = features[column.name]
        if column.kind == NUMERIC:
            data[column.input_name] = values.astype(np.float32)
        else:
            data[column.input_name] = values.astype(object).where(values.notna(), MISSING_TEXT)
            data[column.input_name] = data[column.input_name].map(str)
    return pd.DataFrame(data, index=features.index)


def build_featurizer(columns: Sequence[FeatureColumn]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    numeric = [c.input_name for c in columns if c.kind == NUMERIC]
    text = [c.input_name for c in columns if c.kind == TEXT]
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        # keep_empty_features: a column empty in some fold keeps its place, so shapes agree.
        imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        parts.append(("numeric", imputer, numeric))
    if text:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(("text", encoder, text))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", name).strip("_") or "column"
    if base[0].isdigit():
        base = f"c_{base}"
    if keyword.iskeyword(base):  # a field of the generated ModelInput
        base = f"{base}_"
    candidate, number = base, 2
    while candidate.lower() in taken:
        candidate, number = f"{base}_{number}", number + 1
    taken.add(candidate.lower())
    return candidate
