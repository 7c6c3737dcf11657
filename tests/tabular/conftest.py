"""Tables for the AutoML tests: scikit-learn's bundled data sets written to CSV (real data, no
download), and crafted bad tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sklearn import datasets

pytest.importorskip("flaml")

BUNDLED = {
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
    "diabetes": datasets.load_diabetes,
    "wine": datasets.load_wine,
}
LABEL = "target"


def bundled_frame(name: str) -> pd.DataFrame:
    frame = BUNDLED[name](as_frame=True).frame
    return frame.rename(columns={"target": LABEL})


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[pd.DataFrame, str], Path]:
    def write(frame: pd.DataFrame, name: str = "table.csv") -> Path:
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path

    return write
