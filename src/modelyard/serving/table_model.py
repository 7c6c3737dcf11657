"""An AutoML-for-tables model in a folder (`bestModel.onnx` and `bestModelSchema.json`), run by
onnxruntime on a table's rows: fed as the trainer fed it (`tabular.featurize.model_frame`,
`tabular.export.onnx_feeds`), answering a class name per row (classification) or a value
(regression), as the starter code the trainer writes does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from modelyard.errors import InvalidValue, NotFound

if TYPE_CHECKING:  # pandas is the automl extra's: imported when a table is scored
    import pandas as pd

    from modelyard.tabular.featurize import FeatureColumn

MODEL_FILE: Final = "bestModel.onnx"
SCHEMA_FILE: Final = "bestModelSchema.json"


@dataclass(frozen=True)
class TableModel:
    schema: dict[str, Any]
    session: Any  # onnxruntime.InferenceSession

    @property
    def task(self) -> str:
        return str(self.schema["task"])

    @property
    def label(self) -> str:
        return str(self.schema["label"])

    @property
    def classes(self) -> list[str]:
        return [str(name) for name in self.schema.get("classes") or []]

    @property
    def columns(self) -> list[FeatureColumn]:
        from modelyard.tabular.featurize import FeatureColumn

        return [FeatureColumn(**column) for column in self.schema["columns"]]

    def predict(self, table: pd.DataFrame) -> list[Any]:
        """One answer per row of `table` (which holds at least the model's columns)."""
        import numpy as np

        from modelyard.tabular.config import CLASSIFICATION
        from modelyard.tabular.export import onnx_feeds
        from modelyard.tabular.featurize import model_frame

        columns = self.columns
        missing = [c.name for c in columns if c.name not in table.columns]
        if missing:
            raise InvalidValue(
                f"the table lacks column {missing[0]!r}, which the model reads: give a table"
                " with the columns it was trained on",
                column=missing[0],
            )
        feeds = onnx_feeds(model_frame(table[[c.name for c in columns]], columns), columns)
        names = [output.name for output in self.session.get_outputs()]
        outputs = dict(zip(names, self.session.run(None, feeds), strict=True))
        if self.task == CLASSIFICATION:
            best = np.argmax(np.asarray(outputs["probabilities"]), axis=1)
            return [self.classes[int(index)] for index in best]
        return [float(value) for value in np.asarray(outputs["variable"]).reshape(-1)]


def holds_table_model(model_dir: Path) -> bool:
    return (model_dir / MODEL_FILE).is_file() and (model_dir / SCHEMA_FILE).is_file()


def load_table_model(model_dir: Path) -> TableModel:
    import onnxruntime  # the serving and automl extras'

    if not holds_table_model(model_dir):
        raise NotFound(
            f"model folder {str(model_dir)!r} holds no {MODEL_FILE} with {SCHEMA_FILE}: pass"
            " the best_model of an AutoML-for-tables run",
            path=str(model_dir),
        )
    schema = json.loads((model_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    session = onnxruntime.InferenceSession(
        str(model_dir / MODEL_FILE), providers=["CPUExecutionProvider"]
    )
    return TableModel(schema, session)
