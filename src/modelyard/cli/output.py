"""How the CLI shows things: rich tables for people, `--output json` for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


OutputOption = typer.Option(
    OutputFormat.TABLE, "--output", "-o", help="table for people, json for programs"
)


def emit_error(message: str) -> None:
    """A known error as one line on stderr: "error: " in red, the message as it is (never read
    as markup, so a path or value with brackets in it prints whole)."""
    errors.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


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
