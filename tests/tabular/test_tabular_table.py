from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from modelyard.errors import InvalidValue
from modelyard.tabular.table import check_label_column, read_table
from tabular.conftest import bundled_frame


def test_a_bundled_table_reads_back_with_its_columns(write_csv) -> None:
    frame = read_table(write_csv(bundled_frame("iris")))
    assert frame.shape == (150, 5)
    assert "petal length (cm)" in frame.columns


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"a,b,label\n", "has a header but no rows"),
        (b"\xff\xfe\x00\x01garbage,\x00\n\x80\x81", "could not be read as a CSV table"),
    ],
)
def test_an_empty_or_unreadable_file_is_one_line(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidValue) as raised:
        read_table(path)
    assert words in raised.value.message
    assert "\n" not in raised.value.message


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="is not a file"):
        read_table(tmp_path / "nope.csv")


def test_a_misspelled_label_suggests_the_closest_column() -> None:
    frame = bundled_frame("iris")
    with pytest.raises(InvalidValue) as raised:
        check_label_column(frame, "targte")
    assert "did you mean 'target'?" in raised.value.message
    with pytest.raises(InvalidValue, match="did you mean 'target'"):
        check_label_column(frame, "TARGET")


def test_an_unrelated_label_lists_the_columns() -> None:
    with pytest.raises(InvalidValue, match="choose one of 'a', 'b'"):
        check_label_column(pd.DataFrame({"a": [1], "b": [2]}), "zzzzzz")
