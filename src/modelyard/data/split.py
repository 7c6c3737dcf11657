"""A train/test split of a data folder or file, in the layout it came in: a table (a CSV or
TSV file, or a folder holding one) becomes one table of the same name in each output, images
in a folder per label become the same label folders (each image hard-linked where the disk
allows, else copied).

The split is the same for the same data and seed: items are taken in a fixed order (the
table's rows as written, the images by path) and shuffled by `random.Random(seed)`. Stratified
(a table's `stratify_column`; images always, by label), each class is split on its own, so
each keeps its share in both outputs; a class too small to be in both is refused. Nothing but
the standard library: the split's job needs no extra.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from modelyard.errors import InvalidValue, NotFound

TABLE_SUFFIXES: Final = (".csv", ".tsv")
DEFAULT_TEST_SIZE: Final = 0.2


@dataclass(frozen=True)
class SplitConfig:
    data: str
    test_size: float = DEFAULT_TEST_SIZE
    seed: int = 0
    stratify_column: str | None = None

    def validated(self) -> SplitConfig:
        size = self.test_size
        if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size < 1:
            raise InvalidValue(
                f"test_size {size!r} is out of range: give the test share as a number between"
                " 0 and 1 (exclusive), like 0.2",
                field="test_size",
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InvalidValue(
                f"seed {self.seed!r} is not a whole number: give one, like 0", field="seed"
            )
        if self.stratify_column is not None and not str(self.stratify_column).strip():
            raise InvalidValue(
                "stratify_column is empty: name a column of the table, or leave it out",
                field="stratify_column",
            )
        return self


@dataclass(frozen=True)
class SplitCounts:
    train: int
    test: int
    kind: str  # "table" or "images"


def split_data(config: SplitConfig, train: Path, test: Path) -> SplitCounts:
    """Write the split of `config.data` into the folders `train` and `test` (created)."""
    config = config.validated()
    source = Path(config.data)
    table = table_in(source)
    if table is not None:
        return _split_table(table, config, train, test)
    if config.stratify_column is not None:
        raise InvalidValue(
            f"stratify_column {config.stratify_column!r} is for a table, but {str(source)!r}"
            " holds images in a folder per label (split by label already): leave it out",
            field="stratify_column",
        )
    return _split_images(source, config, train, test)


def table_in(path: Path) -> Path | None:
    """The table a path is (a CSV or TSV file, or a folder whose files hold exactly one); None
    for a folder of label folders. Anything else is refused."""
    if not path.exists():
        raise NotFound(f"data {str(path)!r} does not exist: check the path", path=str(path))
    if path.is_file():
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise InvalidValue(
                f"data {str(path)!r} is not a table (.csv, .tsv): give a table, or a folder of"
                " images in a folder per label",
                path=str(path),
            )
        return path
    tables = [p for p in _visible(path) if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES]
    if len(tables) > 1:
        raise InvalidValue(
            f"data folder {str(path)!r} holds {len(tables)} tables (.csv, .tsv): a split reads"
            " one; give the table file itself",
            path=str(path),
        )
    return tables[0] if tables else None


def choose_test(
    items: Sequence[int], test_size: float, seed: int, what: str
) -> tuple[list[int], list[int]]:
    """`items` (a class's, or all) shuffled by `seed` and cut: (train, test), each kept in
    the items' own order; at least one in each."""
    if len(items) < 2:
        raise InvalidValue(
            f"{what} has {len(items)} item{'s' if len(items) != 1 else ''}: a split needs at"
            " least 2 (one for train, one for test); add data, or don't stratify on it",
            count=len(items),
        )
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    count = min(max(round(len(items) * test_size), 1), len(items) - 1)
    chosen = set(shuffled[:count])
    return [i for i in items if i not in chosen], [i for i in items if i in chosen]


# Tables ------------------------------------------------------------------------------------


def _split_table(table: Path, config: SplitConfig, train: Path, test: Path) -> SplitCounts:
    delimiter = "\t" if table.suffix.lower() == ".tsv" else ","
    header, rows = _read_rows(table, delimiter)
    groups = _groups(header, rows, config.stratify_column, table)
    train_rows: list[int] = []
    test_rows: list[int] = []
    for what, members in groups:
        chosen = choose_test(members, config.test_size, config.seed, what)
        train_rows += chosen[0]
        test_rows += chosen[1]
    for folder, chosen_rows in ((train, sorted(train_rows)), (test, sorted(test_rows))):
        folder.mkdir(parents=True, exist_ok=True)
        _write_rows(folder / table.name, delimiter, header, [rows[i] for i in chosen_rows])
    return SplitCounts(len(train_rows), len(test_rows), "table")


def _read_rows(table: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    try:
        with open(table, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidValue(
            f"table {str(table)!r} could not be read as CSV ({error}): give a UTF-8 table with"
            " a header row",
            path=str(table),
        ) from None
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise InvalidValue(
            f"table {str(table)!r} is empty (no rows under its header): give a table with rows",
            path=str(table),
        )
    return lines[0], lines[1:]


def _groups(
    header: list[str], rows: list[list[str]], column: str | None, table: Path
) -> list[tuple[str, list[int]]]:
    if column is None:
        return [(f"table {table.name!r}", list(range(len(rows))))]
    if column not in header:
        raise InvalidValue(
            f"stratify_column {column!r} is not a column of table {table.name!r}: use one of"
            f" {', '.join(header)}",
            field="stratify_column",
        )
    at = header.index(column)
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(row[at] if at < len(row) else "", []).append(index)
    return [(f"class {value!r} of column {column!r}", groups[value]) for value in sorted(groups)]


def _write_rows(path: Path, delimiter: str, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# Images ------------------------------------------------------------------------------------


def _split_images(source: Path, config: SplitConfig, train: Path, test: Path) -> SplitCounts:
    labels = sorted(p for p in _visible(source) if p.is_dir())
    images = {label.name: _files_under(label) for label in labels}
    images = {name: files for name, files in images.items() if files}
    if not images:
        raise InvalidValue(
            f"data folder {str(source)!r} holds neither a table (.csv, .tsv) nor images in a"
            " folder per label: give one of them",
            path=str(source),
        )
    counts = [0, 0]
    for label, files in images.items():
        chosen = choose_test(range(len(files)), config.test_size, config.seed, f"label {label!r}")
        for side, (folder, indices) in enumerate(zip((train, test), chosen, strict=True)):
            for index in indices:
                _link_or_copy(source / label / files[index], folder / label / files[index])
            counts[side] += len(indices)
    for folder in (train, test):
        folder.mkdir(parents=True, exist_ok=True)
    return SplitCounts(counts[0], counts[1], "images")


def _files_under(folder: Path) -> list[str]:
    """A label folder's files (its subfolders too), sorted; hidden ones are not data."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    )


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another disk, or a file system without hard links
        shutil.copy2(source, target)
