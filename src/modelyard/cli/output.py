"""How the CLI shows things: rich tables for people, `--output json` for programs.

Nothing a user may copy is ever broken: lines are not wrapped by us (soft wrap: a long line is
the terminal's to fold, and copies whole), and a table column is never narrower than its longest
word, so an id, path, URL or token stays on one line even when the table is wider than the
terminal. Numbers are rounded for people; `--output json` always has the whole value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DECIMALS = 4  # what a table shows of a float: 0.7047549999999999 → 0.7048


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


OutputOption = typer.Option(
    OutputFormat.TABLE, "--output", "-o", help="table for people, json for programs"
)


def emit_error(message: str) -> None:
    """A known error as one line on stderr: "error: " in red, the message as it is (never read
    as markup, so a path or value with brackets in it prints whole)."""
    errors.print(Text.assemble(("error: ", "bold red"), message))


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def format_number(value: float) -> str:
    """A number for people: integers without ".0", others to DECIMALS decimals (significant
    ones below 1), trailing zeros dropped."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{DECIMALS}f}" if abs(value) >= 1 else f"{value:.{DECIMALS}g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def format_time(moment: datetime | str | None) -> str:
    """A timestamp for a table: local time to the second (json keeps the ISO form)."""
    if moment is None:
        return ""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def emit_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    whole: Collection[str] = (),
) -> None:
    """Columns in `whole` (paths, which may hold spaces) never wrap at all; the others wrap
    between words only."""
    cells = [[cell_text(cell) for cell in row] for row in rows]
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        texts = [column, *(row[index] for row in cells)]
        if column in whole:
            table.add_column(column, min_width=_longest_line(texts), no_wrap=True)
        else:
            table.add_column(column, min_width=_longest_word(texts), overflow="fold")
    for row in cells:
        table.add_row(*row)
    # Rich squeezes every column (to nothing) when the narrowest the table can be is still
    # wider than the terminal: then it gets that width, and the terminal folds the lines.
    narrowest = sum(column.min_width or 1 for column in table.columns) + 3 * len(columns) + 1
    if narrowest > console.width:
        table.width = narrowest
    console.print(table, crop=False)


def _longest_word(texts: Sequence[str]) -> int:
    """A column may wrap between words, never inside one (an id, a path, a URL)."""
    return max((len(word) for text in texts for word in text.split()), default=1)


def _longest_line(texts: Sequence[str]) -> int:
    return max((len(line) for text in texts for line in text.splitlines()), default=1)


def emit_mapping(title: str, mapping: dict[str, Any], sort: bool = True) -> None:
    items = sorted(mapping.items()) if sort else list(mapping.items())
    emit_table(title, ["key", "value"], items)


def emit(fmt: OutputFormat, data: Any, title: str, columns: Sequence[str]) -> None:
    """A list of dicts (or one dict) as JSON, or as a table with the given columns."""
    if fmt is OutputFormat.JSON:
        emit_json(data)
        return
    rows = data if isinstance(data, list) else [data]
    emit_table(title, columns, [[row.get(column) for column in columns] for row in rows])
