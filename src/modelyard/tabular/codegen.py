"""Starter code for a table model, in the shape of ML.NET Model Builder's two projects::

    <destination>/<Name>.Model/       model_input.py (ModelInput: one field per table column,
                                      typed), model_output.py (ModelOutput: Prediction, Score),
                                      consume_model.py (predict), bestModel.onnx,
                                      bestModelSchema.json, requirements.txt
    <destination>/<Name>.ConsoleApp/  main.py (predicts the table's first row, prints JSON)

The code imports onnxruntime and NumPy, never Modelyard. Both projects are written in a hidden
folder and renamed into place: a failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any, Final

from modelyard.tabular.config import CLASSIFICATION
from modelyard.tabular.featurize import NUMERIC, FeatureColumn

MODEL_SUFFIX: Final = ".Model"
CONSOLE_SUFFIX: Final = ".ConsoleApp"
REQUIREMENTS: Final = ("onnxruntime", "numpy")
MODEL_FILE: Final = "bestModel.onnx"
SCHEMA_FILE: Final = "bestModelSchema.json"

_MODEL_INPUT: Final = Template('''"""The model's input: a field per column of the training table."""

from dataclasses import dataclass
from typing import Optional


@dataclass
class ModelInput:
$fields
''')

_MODEL_OUTPUT: Final = '''"""The model's answer, as Model Builder names it."""

from dataclasses import dataclass
from typing import List


@dataclass
class ModelOutput:
    Prediction: object  # the class (classification) or the value (regression)
    Score: List[float]  # one probability per class; the value itself for regression
'''

_CONSUME: Final = '''"""Predict a ModelInput with bestModel.onnx (onnxruntime, NumPy)."""

import json
import math
from pathlib import Path

import numpy as np
import onnxruntime

from model_input import ModelInput
from model_output import ModelOutput

_HERE = Path(__file__).resolve().parent
_SCHEMA = json.loads((_HERE / "bestModelSchema.json").read_text(encoding="utf-8"))
_SESSION = None


def _session():
    global _SESSION
    if _SESSION is None:
        _SESSION = onnxruntime.InferenceSession(
            str(_HERE / "bestModel.onnx"), providers=["CPUExecutionProvider"]
        )
    return _SESSION


def _feed(column, value):
    if column["kind"] == "numeric":
        number = math.nan if value is None else float(value)
        return np.array([[number]], dtype=np.float32)
    return np.array([["" if value is None else str(value)]], dtype=object)


def predict(model_input: ModelInput) -> ModelOutput:
    feeds = {
        column["input_name"]: _feed(column, getattr(model_input, column["input_name"]))
        for column in _SCHEMA["columns"]
    }
    outputs = _session().run(None, feeds)
    if _SCHEMA["task"] == "classification":
        scores = [float(p) for p in outputs[1][0]]
        best = max(range(len(scores)), key=scores.__getitem__)
        return ModelOutput(Prediction=_SCHEMA["classes"][best], Score=scores)
    value = float(np.asarray(outputs[0]).reshape(-1)[0])
    return ModelOutput(Prediction=value, Score=[value])
'''

_CONSOLE: Final = Template('''"""Predict one row with the generated model; print the answer."""

import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "$model_dir"))

from consume_model import predict  # noqa: E402
from model_input import ModelInput  # noqa: E402

SAMPLE = ModelInput(**$sample)

if __name__ == "__main__":
    print(json.dumps(asdict(predict(SAMPLE))))
''')


def generate_starter(
    destination: Path,
    name: str,
    model_dir: Path,
    columns: Sequence[FeatureColumn],
    sample: Mapping[str, Any],
) -> tuple[Path, Path]:
    """Write `<name>.Model` (from `model_dir`'s bestModel.onnx and schema) and
    `<name>.ConsoleApp` under `destination`; `sample` is a row keyed by input name."""
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".starter-", dir=destination) as hidden:
        staged_model = Path(hidden) / f"{name}{MODEL_SUFFIX}"
        staged_console = Path(hidden) / f"{name}{CONSOLE_SUFFIX}"
        _write_model_project(staged_model, model_dir, columns)
        staged_console.mkdir()
        (staged_console / "main.py").write_text(
            _CONSOLE.substitute(model_dir=staged_model.name, sample=repr(dict(sample))),
            encoding="utf-8",
        )
        final_model = destination / staged_model.name
        final_console = destination / staged_console.name
        staged_model.rename(final_model)
        staged_console.rename(final_console)
    return final_model, final_console


def project_name(table: Path) -> str:
    """The projects' name from the table's ("heart-disease.csv" → "HeartDisease")."""
    words = re.findall(r"[A-Za-z0-9]+", table.stem)
    name = "".join(word[:1].upper() + word[1:] for word in words)[:64]
    return name if name[:1].isalpha() else f"Table{name}"[:64]


def _write_model_project(folder: Path, model_dir: Path, columns: Sequence[FeatureColumn]) -> None:
    folder.mkdir()
    shutil.copyfile(model_dir / MODEL_FILE, folder / MODEL_FILE)
    shutil.copyfile(model_dir / SCHEMA_FILE, folder / SCHEMA_FILE)
    (folder / "model_input.py").write_text(
        _MODEL_INPUT.substitute(fields=_input_fields(columns)), encoding="utf-8"
    )
    (folder / "model_output.py").write_text(_MODEL_OUTPUT, encoding="utf-8")
    (folder / "consume_model.py").write_text(_CONSUME, encoding="utf-8")
    (folder / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n", encoding="utf-8")


def _input_fields(columns: Sequence[FeatureColumn]) -> str:
    lines = []
    for column in columns:
        kind = "float" if column.kind == NUMERIC else "str"
        lines.append(f"    {column.input_name}: Optional[{kind}] = None  # {column.name!r}")
    return "\n".join(lines)


def sample_row(frame: Any, columns: Sequence[FeatureColumn]) -> dict[str, Any]:
    """The first row of a model frame as plain values (NaN as None), keyed by input name."""
    row = frame.iloc[0]
    sample: dict[str, Any] = {}
    for column in columns:
        value = row[column.input_name]
        if column.kind == NUMERIC:
            sample[column.input_name] = None if value != value else float(value)
        else:
            sample[column.input_name] = str(value)
    return sample


def expected_answer(outputs: Sequence[Any], task: str, classes: Sequence[str]) -> dict[str, Any]:
    """What the generated code must print for the outputs ONNX Runtime gave for the sample."""
    if task == CLASSIFICATION:
        scores = [float(p) for p in outputs[1][0]]
        return {"Prediction": classes[scores.index(max(scores))], "Score": scores}
    value = float(outputs[0].reshape(-1)[0])
    return {"Prediction": value, "Score": [value]}


def parsed_answer(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.strip().splitlines()[-1]))
