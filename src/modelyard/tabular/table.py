"""Reading the training table and finding its label column, each failure one line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Final

import pandas as pd

from modelyard.errors import InvalidValue

TABLE_SEPARATORS: Final = {".tsv": "\t"}  # anything else is read as comma-separated


def read_table(path: Path) -> pd.DataFrame:
    """The table with a header row; a missing, empty or unparsable file is one line."""
    if not path.is_file():
        raise InvalidValue(
            f"--data {str(path)!r} is not a file: give the path of a CSV table", path=str(path)
        )
    try:
        frame = pd.read_csv(path, sep=TABLE_SEPARATORS.get(path.suffix.lower(), ","))
    except pd.errors.EmptyDataError:
        raise _unusable(path, "is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _unusable(path, f"could not be read as a CSV table ({reason})") from None
    except OSError as error:
        raise _unusable(path, f"could not be read ({error.strerror or error})") from None
    if frame.empty:
        raise _unusable(path, "has a header but no rows")
    return frame


def check_label_column(frame: pd.DataFrame, label: str) -> None:
    """The label must be one of the table's columns; a near miss names the closest one."""
    if label in frame.columns:
        return
    columns = [str(column) for column in frame.columns]
    close = difflib.get_close_matches(label, columns, n=1, cutoff=0.5)
    folded = [column for column in columns if column.lower() == label.lower()]
    suggestion = next(iter(folded or close), None)
    fix = (
        f"did you mean {suggestion!r}?"
        if suggestion
        else f"choose one of {', '.join(repr(c) for c in columns[:10])}"
    )
    raise InvalidValue(
        f"--label {label!r} is not a column of the table: {fix}", label=label, suggestion=suggestion
    )


def _unusable(path: Path, reason: str) -> InvalidValue:
    return InvalidValue(
        f"--data {str(path)!r} {reason}: give a CSV table with a header row and at least one row",
        path=str(path),
    )
