"""A model scored on labeled test data, for a pipeline's evaluate step: the metrics of its task.

An image classifier (Model Builder's files) scores a folder of images in a folder per label
with batch scoring's own loop (`serving.batch.scoring.BatchScorer`: the same decoding,
preprocessing and mini-batches), and its predictions are judged by the trainer's evaluation
(`vision.evaluation`: accuracy, macro/micro/weighted precision, recall and F1). An AutoML table
model (`bestModel.onnx` with its schema) scores a table's rows (`serving.table_model`); a
classifier is judged by accuracy and macro F1, a regressor by R² and RMSE.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from modelyard.data.split import table_in
from modelyard.errors import InvalidValue
from modelyard.serving.batch.files import list_data_files
from modelyard.serving.table_model import holds_table_model

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class EvaluateConfig:
    """`model` is the model's folder and `data` the test data, as the job sees them;
    `model_reference` says which model it is (a registered `NAME:VERSION` or a step's)."""

    model: str
    model_reference: str
    data: str
    label_column: str | None = None

    def validated(self) -> EvaluateConfig:
        if self.label_column is not None and not str(self.label_column).strip():
            raise InvalidValue(
                "label_column is empty: name the table's label column, or leave it out (the"
                " model's own label column is used)",
                field="label_column",
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluateConfig:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known}).validated()


@dataclass(frozen=True)
class EvaluationReport:
    task: str
    data_kind: str  # "images" or "table"
    sample_count: int
    metrics: dict[str, float]  # what the run logs
    details: dict[str, Any]  # per class, unreadable files…: metrics.json's rest

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_model(config: EvaluateConfig, work: Path) -> EvaluationReport:
    """Score `config.data` with `config.model` and judge the answers; `work` is a folder for
    the scores on their way (a job's checkpoint folder: a later attempt resumes from it)."""
    model, data = Path(config.model), Path(config.data)
    if holds_table_model(model):
        return _evaluate_table(model, data, config.label_column)
    from modelyard.serving.image_model import holds_image_model  # NumPy: the serving extra's

    if holds_image_model(model):
        return _evaluate_images(config, model, data, work)
    raise InvalidValue(
        f"model {config.model_reference} is neither an image classifier (MLModel.zip or"
        " bestModel.onnx with its label map) nor an AutoML table model (bestModel.onnx with"
        " bestModelSchema.json): evaluate the model output of a training or AutoML step",
        model=config.model_reference,
    )


# Images ------------------------------------------------------------------------------------


def _evaluate_images(
    config: EvaluateConfig, model_dir: Path, data: Path, work: Path
) -> EvaluationReport:
    from modelyard.serving.batch.config import BatchScoreConfig
    from modelyard.serving.batch.ledger import Ledger
    from modelyard.serving.batch.scoring import BatchScorer
    from modelyard.serving.image_model import load_image_model
    from modelyard.vision.evaluation import evaluate

    files = _labeled_images(data)
    model = load_image_model(model_dir)
    ledger = Ledger(work)
    scoring = BatchScoreConfig(str(model_dir), config.model_reference, str(data)).validated()
    BatchScorer(scoring, model, ledger, lambda _: None, lambda: False).run(files)
    records = [json.loads(line) for line in ledger.predictions.read_text().splitlines()]
    if not records:
        raise InvalidValue(
            f"none of the {len(files)} files of {str(data)!r} could be read as an image: give"
            " a folder of images in a folder per label",
            path=str(data),
        )
    truth = [str(record["file"]).split("/")[0] for record in records]
    predicted = [str(record["Prediction"]) for record in records]
    labels = [*model.labels, *sorted(set(truth) - set(model.labels))]
    index = {label: number for number, label in enumerate(labels)}
    evaluation = evaluate(
        labels, [index[label] for label in truth], [index[label] for label in predicted]
    )
    details = {**evaluation.to_dict(), "unreadable_files": ledger.progress.failed}
    return EvaluationReport(CLASSIFICATION, "images", len(records), evaluation.metrics(), details)


def _labeled_images(data: Path) -> list[str]:
    files = list_data_files(data) if data.is_dir() else []
    unlabeled = [name for name in files if "/" not in name]
    if not files or unlabeled:
        where = f" ({unlabeled[0]!r} is in no label folder)" if unlabeled else ""
        raise InvalidValue(
            f"test data {str(data)!r} is not images in a folder per label{where}: give a"
            " folder holding one folder of images per label",
            path=str(data),
        )
    return files


# Tables ------------------------------------------------------------------------------------


def _evaluate_table(model_dir: Path, data: Path, label_column: str | None) -> EvaluationReport:
    from modelyard.serving.table_model import load_table_model
    from modelyard.tabular.table import read_table

    table = table_in(data)
    if table is None:
        raise InvalidValue(
            f"test data {str(data)!r} is not a table, but the model is a table model: give"
            " a CSV table (or a folder of one) with the label column",
            path=str(data),
        )
    model = load_table_model(model_dir)
    label = label_column or model.label
    frame = read_table(table)
    if label not in frame.columns:
        raise InvalidValue(
            f"label_column {label!r} is not a column of table {table.name!r}: use one of"
            f" {', '.join(map(str, frame.columns))}",
            field="label_column",
        )
    frame = frame[frame[label].notna()]
    if frame.empty:
        raise InvalidValue(f"table {table.name!r} has no rows with a label {label!r}")
    predicted = model.predict(frame)
    if model.task == CLASSIFICATION:
        truth = [str(value) for value in frame[label]]
        metrics, details = _classification_metrics(truth, predicted)
    else:
        metrics, details = _regression_metrics([float(v) for v in frame[label]], predicted)
    return EvaluationReport(model.task, "table", len(frame), metrics, details)


def _classification_metrics(
    truth: list[str], predicted: list[Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    answers = [str(value) for value in predicted]
    labels = sorted(set(truth) | set(answers))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, answers, labels=labels, zero_division=0
    )
    metrics = {
        "accuracy": float(accuracy_score(truth, answers)),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
    }
    per_class = [
        {"label": label, "precision": float(p), "recall": float(r), "f1": float(f), "count": int(n)}
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    ]
    return metrics, {"per_class": per_class}


def _regression_metrics(
    truth: list[float], predicted: list[Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    errors = [float(p) - t for p, t in zip(predicted, truth, strict=True)]
    mean = sum(truth) / len(truth)
    total = sum((t - mean) ** 2 for t in truth)
    residual = sum(e**2 for e in errors)
    # A constant label explains nothing: R² is 0 for a perfect fit of it, else undefined (0).
    r2 = 1.0 - residual / total if total else 0.0
    metrics = {
        "r2_score": r2,
        "rmse": math.sqrt(residual / len(errors)),
        "mae": sum(abs(e) for e in errors) / len(errors),
    }
    return metrics, {}
