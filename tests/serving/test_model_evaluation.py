"""A model judged on labeled test data: the vision tests' real tiny ONNX image classifier on
images in a folder per label (scored by batch scoring's loop), and real table models exported
as AutoML exports them (a classifier on iris, a regressor on a line); the metrics of each
task, and one-line refusals of data that does not fit the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from modelyard.errors import InvalidValue
from modelyard.serving.evaluation import EvaluateConfig, evaluate_model
from modelyard.tabular.export import export_onnx, pipeline_of
from modelyard.tabular.featurize import build_featurizer, feature_columns, model_frame
from vision.conftest import save_square

pytest_plugins = ["vision.conftest"]


def table_model(folder: Path, frame: pd.DataFrame, label: str, task: str) -> Path:
    """bestModel.onnx and bestModelSchema.json as AutoML for tables writes them."""
    features = frame.drop(columns=[label])
    columns = feature_columns(features)
    if task == "classification":
        classes = sorted(frame[label].unique())
        target = frame[label].map({c: i for i, c in enumerate(classes)}).to_numpy()
        estimator = LogisticRegression(max_iter=500)
    else:
        classes, target, estimator = [], frame[label].to_numpy(dtype=float), LinearRegression()
    pipeline = pipeline_of(build_featurizer(columns), estimator)
    pipeline.fit(model_frame(features, columns), target)
    folder.mkdir(parents=True)
    (folder / "bestModel.onnx").write_bytes(export_onnx(pipeline, columns))
    schema = {
        "task": task,
        "label": label,
        "columns": [column.to_dict() for column in columns],
        "classes": [str(c) for c in classes] if classes else None,
    }
    (folder / "bestModelSchema.json").write_text(json.dumps(schema))
    return folder


def evaluate(model: Path, data: Path, work: Path, label: str | None = None) -> object:
    return evaluate_model(EvaluateConfig(str(model), "test model", str(data), label), work)


def test_an_image_classifier_is_judged_on_images_per_label(
    tmp_path: Path, model_builder_dir: Path
) -> None:
    data = tmp_path / "test"
    for label, colour in (("cat", (220, 30, 30)), ("dog", (30, 40, 230))):
        (data / label).mkdir(parents=True)
        for index in range(3):
            save_square(data / label / f"{index}.png", colour, (64 + index, 72))
    (data / "dog" / "broken.jpg").write_bytes(b"not an image")
    report = evaluate_model(
        EvaluateConfig(str(model_builder_dir), "pets:1", str(data)), tmp_path / "work"
    )
    assert (report.task, report.data_kind, report.sample_count) == ("classification", "images", 6)
    assert report.details["unreadable_files"] == 1
    # The metrics are those of batch scoring's own predictions, kept in the work folder.
    scored = [json.loads(line) for line in (tmp_path / "work" / "predictions.jsonl").open()]
    right = sum(item["file"].split("/")[0] == item["Prediction"] for item in scored)
    assert report.metrics["accuracy"] == pytest.approx(right / 6)
    assert {"macro_f1", "macro_precision", "macro_recall"} <= set(report.metrics)


def test_a_table_classifier_is_judged_by_accuracy_and_macro_f1(tmp_path: Path) -> None:
    iris = load_iris(as_frame=True).frame
    model = table_model(tmp_path / "model", iris, "target", "classification")
    iris.to_csv(tmp_path / "iris.csv", index=False)
    report = evaluate_model(
        EvaluateConfig(str(model), "iris:1", str(tmp_path / "iris.csv")), tmp_path / "work"
    )
    assert (report.task, report.data_kind, report.sample_count) == ("classification", "table", 150)
    assert report.metrics["accuracy"] > 0.9
    assert report.metrics["macro_f1"] > 0.9
    assert [item["label"] for item in report.details["per_class"]] == ["0", "1", "2"]


def test_a_table_regressor_is_judged_by_r2_and_rmse(tmp_path: Path) -> None:
    x = np.arange(20, dtype=float)
    frame = pd.DataFrame({"x": x, "colour": ["red", "blue"] * 10, "y": 2 * x + 1})
    model = table_model(tmp_path / "model", frame, "y", "regression")
    (tmp_path / "data").mkdir()
    frame.rename(columns={"y": "truth"}).to_csv(tmp_path / "data" / "line.csv", index=False)
    report = evaluate_model(
        EvaluateConfig(str(model), "line:1", str(tmp_path / "data"), "truth"), tmp_path / "w"
    )
    assert report.task == "regression"
    assert report.metrics["r2_score"] == pytest.approx(1.0, abs=1e-4)
    assert report.metrics["rmse"] == pytest.approx(0.0, abs=1e-3)


def test_data_that_does_not_fit_the_model_is_one_line(
    tmp_path: Path, model_builder_dir: Path
) -> None:
    iris = load_iris(as_frame=True).frame
    tables = table_model(tmp_path / "model", iris, "target", "classification")
    iris.to_csv(tmp_path / "iris.csv", index=False)
    images = tmp_path / "images"
    images.mkdir()
    save_square(images / "loose.png", (220, 30, 30), (64, 64))
    (tmp_path / "nothing").mkdir()
    cases = [
        (model_builder_dir, tmp_path / "iris.csv", None, "is not images in a folder per label"),
        (model_builder_dir, images, None, "('loose.png' is in no label folder)"),
        (tables, images, None, "is not a table, but the model is a table model"),
        (tables, tmp_path / "iris.csv", "species", "label_column 'species' is not a column"),
        (tmp_path / "nothing", images, None, "model test model is neither an image classifier"),
    ]
    for model, data, label, expected in cases:
        with pytest.raises(InvalidValue) as raised:
            evaluate(model, data, tmp_path / "work", label)
        assert expected in raised.value.message
        assert "\n" not in raised.value.message
