from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelyard.tabular.guardrails import CheckStatus, check_table, write_report
from tabular.conftest import LABEL, bundled_frame


def statuses(frame: pd.DataFrame, task: str = "classification") -> dict[str, CheckStatus]:
    return {check.name: check.status for check in check_table(frame, LABEL, task).checks}


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("breast_cancer", "classification"),
        ("iris", "classification"),
        ("wine", "classification"),
        ("diabetes", "regression"),
    ],
)
def test_the_bundled_tables_pass_every_check(name: str, task: str) -> None:
    table = check_table(bundled_frame(name), LABEL, task)
    assert table.passed
    handled = {check.name for check in table.checks if check.status is not CheckStatus.PASSED}
    assert handled == ({"duplicate_rows"} if name == "iris" else set())  # iris repeats a row
    assert table.features.shape[1] == bundled_frame(name).shape[1] - 1


def test_missing_values_are_imputed_and_say_how() -> None:
    frame = bundled_frame("iris")
    frame.loc[[3, 40], "sepal width (cm)"] = np.nan
    table = check_table(frame, LABEL, "classification")
    missing = next(check for check in table.checks if check.name == "missing_values")
    assert missing.status is CheckStatus.DONE
    assert "median" in missing.detail and "'sepal width (cm)' (2)" in missing.detail


def test_all_missing_constant_and_identifier_columns_are_left_out() -> None:
    frame = bundled_frame("wine")
    frame["empty"] = np.nan
    frame["always"] = 7
    frame["row_id"] = [f"id-{i}" for i in range(len(frame))]
    table = check_table(frame, LABEL, "classification")
    found = {check.name: check for check in table.checks}
    assert found["all_missing_columns"].columns == ("empty",)
    assert found["constant_columns"].columns == ("always",)
    assert found["high_cardinality"].columns == ("row_id",)
    assert {"empty", "always", "row_id"}.isdisjoint(table.features.columns)
    assert all(found[name].status is CheckStatus.DONE for name in ("constant_columns",))


def test_class_imbalance_and_few_rows_per_class_are_alerted() -> None:
    frame = bundled_frame("breast_cancer")
    small = frame[frame[LABEL] == 0].head(5)
    frame = pd.concat([frame[frame[LABEL] == 1], small])
    found = statuses(frame)
    assert found["class_imbalance"] is CheckStatus.ALERTED
    assert found["rows_per_class"] is CheckStatus.ALERTED


def test_a_class_with_one_row_fails() -> None:
    frame = bundled_frame("iris")
    frame = pd.concat([frame[frame[LABEL] != 2], frame[frame[LABEL] == 2].head(1)])
    table = check_table(frame, LABEL, "classification")
    assert not table.passed
    assert "class '2' has 1 row" in table.summary_line()


def test_a_label_with_one_class_fails_in_one_line() -> None:
    frame = bundled_frame("iris")
    frame[LABEL] = "setosa"
    table = check_table(frame, LABEL, "classification")
    assert not table.passed
    assert table.summary_line().startswith("guardrails failed: the label has one class ('setosa')")
    assert "\n" not in table.summary_line()


def test_a_non_numeric_target_fails_regression() -> None:
    frame = bundled_frame("iris")
    frame[LABEL] = frame[LABEL].map({0: "a", 1: "b", 2: "c"})
    table = check_table(frame, LABEL, "regression")
    assert not table.passed
    assert "regression needs a numeric label" in table.summary_line()
    assert "--task classification" in table.summary_line()


def test_rows_without_a_label_are_left_out_and_all_empty_fails() -> None:
    frame = bundled_frame("diabetes")
    frame.loc[:9, LABEL] = np.nan
    table = check_table(frame, LABEL, "regression")
    assert table.passed and len(table.label) == len(frame) - 10
    frame[LABEL] = np.nan
    assert not check_table(frame, LABEL, "regression").passed


def test_a_column_that_is_the_label_in_disguise_is_alerted_and_left_out() -> None:
    frame = bundled_frame("wine")
    frame["grade"] = frame[LABEL].map({0: "gold", 1: "silver", 2: "bronze"})
    table = check_table(frame, LABEL, "classification")
    leakage = next(check for check in table.checks if check.name == "label_leakage")
    assert leakage.status is CheckStatus.ALERTED
    assert leakage.columns == ("grade",)
    assert "grade" not in table.features.columns
    regression = bundled_frame("diabetes")
    regression["target_x10"] = regression[LABEL] * 10
    assert statuses(regression, "regression")["label_leakage"] is CheckStatus.ALERTED


def test_duplicate_rows_are_removed_before_any_split() -> None:
    frame = bundled_frame("iris")  # iris itself has one duplicate row
    doubled = pd.concat([frame, frame.head(20)])
    table = check_table(doubled, LABEL, "classification")
    duplicates = next(check for check in table.checks if check.name == "duplicate_rows")
    assert duplicates.status is CheckStatus.DONE
    assert len(table.features) == len(frame.drop_duplicates())
    assert not pd.concat([table.features, table.label], axis=1).duplicated().any()


def test_no_features_left_fails() -> None:
    frame = pd.DataFrame({"same": [1] * 30, LABEL: ["a", "b"] * 15})
    table = check_table(frame, LABEL, "classification")
    assert not table.passed
    assert "no feature column is left" in table.summary_line()


def test_the_report_is_the_portals_shape(tmp_path: Path) -> None:
    frame = bundled_frame("iris")
    frame["empty"] = np.nan
    path = tmp_path / "guardrails.json"
    write_report(check_table(frame, LABEL, "classification"), path)
    report = json.loads(path.read_text())
    assert report["passed"] is True
    assert report["class_counts"] == {"0": 50, "1": 50, "2": 49}
    assert [w["kind"] for w in report["warnings"]] == ["all_missing_columns", "duplicate_rows"]
    assert {check["status"] for check in report["checks"]} == {"Passed", "Done"}
    assert report["errors"] == []
