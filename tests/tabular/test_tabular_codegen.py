"""The generated starter projects, run in the clean interpreter (onnxruntime and NumPy only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime

from modelyard.environments.isolated_python import isolated_python
from modelyard.tabular.codegen import (
    expected_answer,
    generate_starter,
    parsed_answer,
    project_name,
    sample_row,
)
from modelyard.tabular.export import export_onnx, onnx_feeds, pipeline_of
from modelyard.tabular.featurize import build_featurizer, feature_columns, model_frame
from tabular.conftest import LABEL, bundled_frame


def test_project_names_come_from_the_table() -> None:
    assert project_name(Path("heart-disease.csv")) == "HeartDisease"
    assert project_name(Path("2024 sales.csv")) == "Table2024Sales"


def test_a_regressor_with_text_and_missing_values_runs_in_a_clean_interpreter(
    tmp_path: Path,
) -> None:
    from sklearn.linear_model import Ridge

    frame = bundled_frame("diabetes").head(120)
    frame["class"] = np.where(frame["age"] > 0, "older", None)  # a keyword, text, missing
    frame.loc[0, "bmi"] = np.nan
    features = frame.drop(columns=[LABEL])
    columns = feature_columns(features)
    table = model_frame(features, columns)
    featurizer = build_featurizer(columns).fit(table)
    model = Ridge().fit(featurizer.transform(table), frame[LABEL])
    pipeline = pipeline_of(featurizer, model)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    onnx_bytes = export_onnx(pipeline, columns)
    (model_dir / "bestModel.onnx").write_bytes(onnx_bytes)
    schema = {"task": "regression", "classes": None, "columns": [c.to_dict() for c in columns]}
    (model_dir / "bestModelSchema.json").write_text(json.dumps(schema))
    sample = sample_row(table, columns)
    assert sample["bmi"] is None and sample["class_"] == "older"
    model_project, console = generate_starter(
        tmp_path / "out", "Diabetes", model_dir, columns, sample
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "Diabetes.ConsoleApp",
        "Diabetes.Model",
    ]
    with isolated_python(model_project / "requirements.txt") as python:
        result = python.run([str(console / "main.py")], cwd=console)
    assert result.returncode == 0, result.stderr
    session = onnxruntime.InferenceSession(onnx_bytes)
    expected = expected_answer(
        session.run(None, onnx_feeds(table.head(1), columns)), "regression", []
    )
    answer = parsed_answer(result.stdout)
    assert abs(answer["Prediction"] - expected["Prediction"]) < 1e-3
    assert abs(answer["Prediction"] - float(pipeline.predict(table.head(1))[0])) < 1e-2
