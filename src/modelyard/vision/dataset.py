"""Finding the images of a data set and decoding one image safely.

Two layouts, as in Model Builder:

- a folder with one sub-folder per label, images anywhere below their label folder;
- a CSV or TSV table with the columns ImageSource,Label. Relative paths resolve against the
  table's folder and must stay inside it; a path that climbs out of it (`../elsewhere/x.png`)
  or an absolute path is refused, row by row, unless `allow_paths_outside_table` is set. The
  rule is lexical (`..` segments), as a folder scan follows links inside the data set.

Nothing here decides whether the data set is good enough to train on: missing or broken files
come back as records like any other and `guardrails.check_dataset` reports them one by one.
`check_before_submission` is the cheap part a submission checks before any run exists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision.config import ALLOW_OUTSIDE_OPTION

# Decoding one image lives in `decoding` (the scoring replica uses it without the rest); its
# names stay importable from here, where training and the guardrails have always found them.
from modelyard.vision.decoding import IMAGE_FORMATS as IMAGE_FORMATS
from modelyard.vision.decoding import MAX_IMAGE_PIXELS as MAX_IMAGE_PIXELS
from modelyard.vision.decoding import ImageUnreadable as ImageUnreadable
from modelyard.vision.decoding import decode_image as decode_image
from modelyard.vision.decoding import load_inputs as load_inputs

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: Final = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".webp"}
)
TABLE_COLUMNS: Final = ("ImageSource", "Label")
_ROWS_SHOWN: Final = 10
_HASH_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True)
class DataOption:
    """How a refusal names a data set: the option that gave it, and what it is for."""

    flag: str
    purpose: str


TRAINING_DATA: Final = DataOption("--data", "train on")
VALIDATION_DATA: Final = DataOption("--validation-data", "validate on")


@dataclass(frozen=True)
class ImageRecord:
    path: Path  # absolute
    label: str


@dataclass(frozen=True)
class SkippedPath:
    """Something found while scanning a folder that is not an image record.

    reason is "symlink_loop", "empty_label_folder", "unreadable_folder" or "no_label" (an
    image directly in the root, outside any label folder).
    """

    path: str
    reason: str
    detail: str


@dataclass(frozen=True)
class RefusedRow:
    """A table row whose ImageSource leads outside the table's folder."""

    line: int
    source: str  # as written in the table
    why: str


@dataclass(frozen=True)
class DatasetScan:
    records: list[ImageRecord]
    skipped: list[SkippedPath] = field(default_factory=list)


# --- finding the records --------------------------------------------------------------------


def load_dataset(source: Path, allow_paths_outside_table: bool = False) -> list[ImageRecord]:
    return scan_dataset(source, allow_paths_outside_table).records


def scan_dataset(source: Path, allow_paths_outside_table: bool = False) -> DatasetScan:
    """A folder of label folders or a table; anything else is refused in one line."""
    if source.is_dir():
        return scan_folder(source)
    if source.is_file():
        return DatasetScan(read_table(source, allow_paths_outside_table))
    raise _no_such_data(source)


def check_before_submission(
    source: Path, allow_paths_outside_table: bool = False, option: DataOption = TRAINING_DATA
) -> None:
    """What is cheap to know before a run exists, refused in one line naming `option`: a
    table's columns, cells and paths, and a data set with no image at all. Files are not
    decoded here: the run's guardrails do that, one by one."""
    if source.is_file():
        if not read_table(source, allow_paths_outside_table):
            raise _table_without_rows(source.absolute(), option)
        return
    if _first_image(source.absolute()) is None:
        raise _folder_without_images(source.absolute(), option)


def _no_such_data(source: Path) -> NotFound:
    return NotFound(
        f"--data {str(source)!r}: no such folder or table; pass a folder with one sub-folder "
        "per label, or a CSV/TSV with ImageSource,Label",
        path=str(source),
    )


def discover_folder(root: Path) -> list[ImageRecord]:
    scan = scan_folder(root)
    for skipped in scan.skipped:
        logger.warning("%s", skipped.detail)
    return scan.records


def scan_folder(root: Path) -> DatasetScan:
    """Every image below each label folder, sorted by label then relative path.

    Symbolic links are followed; a directory already visited for the same label (a loop such
    as `ln -s .. loop`) is skipped and reported instead of walked again.
    """
    root = root.absolute()
    if not root.is_dir():
        raise _no_such_data(root)
    records: list[ImageRecord] = []
    skipped: list[SkippedPath] = []
    for entry in _visible_entries(root, skipped):
        if entry.is_dir():
            already_skipped = len(skipped)
            found = list(_label_folder_images(root, entry, skipped))
            if not found and len(skipped) == already_skipped:
                skipped.append(_empty_label_folder(entry))
            records.extend(found)
        elif _looks_like_image(entry):
            skipped.append(_unlabelled_file(entry))
    return DatasetScan(sorted(records, key=lambda record: _sort_key(root, record)), skipped)


def _first_image(root: Path) -> ImageRecord | None:
    """The first image record of a folder scan, found without listing the rest."""
    skipped: list[SkippedPath] = []
    for entry in _visible_entries(root, skipped):
        if entry.is_dir():
            for record in _label_folder_images(root, entry, skipped):
                return record
    return None


def _label_folder_images(
    root: Path, folder: Path, skipped: list[SkippedPath]
) -> Iterator[ImageRecord]:
    label = unicodedata.normalize("NFC", folder.name)
    visited = {root.resolve()}
    pending = [folder]
    while pending:
        directory = pending.pop()
        resolved = directory.resolve()
        if resolved in visited:
            skipped.append(_symlink_loop(directory, resolved))
            continue
        visited.add(resolved)
        for entry in _visible_entries(directory, skipped):
            if entry.is_dir():
                pending.append(entry)
            elif _looks_like_image(entry):
                yield ImageRecord(entry, label)


def _visible_entries(directory: Path, skipped: list[SkippedPath]) -> list[Path]:
    try:
        return sorted(path for path in directory.iterdir() if not path.name.startswith("."))
    except OSError as error:
        detail = (
            f"cannot list folder {str(directory)!r} ({error.strerror}); skipped it; "
            "fix: make it readable or remove it"
        )
        skipped.append(SkippedPath(str(directory), "unreadable_folder", detail))
        return []


def _looks_like_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _sort_key(root: Path, record: ImageRecord) -> tuple[str, str]:
    return record.label, record.path.relative_to(root).as_posix()


def _symlink_loop(directory: Path, resolved: Path) -> SkippedPath:
    detail = (
        f"symlink loop: {str(directory)!r} leads back to {str(resolved)!r}, already scanned; "
        "skipped it; fix: remove the link or point it outside the data set"
    )
    return SkippedPath(str(directory), "symlink_loop", detail)


def _empty_label_folder(folder: Path) -> SkippedPath:
    detail = (
        f"label folder {str(folder)!r} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}); "
        "fix: add images to it or remove it"
    )
    return SkippedPath(str(folder), "empty_label_folder", detail)


def _unlabelled_file(path: Path) -> SkippedPath:
    detail = (
        f"image {str(path)!r} sits in the data set root, outside any label folder; skipped it; "
        "fix: move it into the sub-folder named after its label"
    )
    return SkippedPath(str(path), "no_label", detail)


# --- tables ---------------------------------------------------------------------------------


def read_table(table: Path, allow_paths_outside_table: bool = False) -> list[ImageRecord]:
    """Rows of an ImageSource,Label table, in table order; files are not checked here.

    Rows with an empty cell, and rows whose path leads outside the table's folder (unless
    allowed), are refused together, each by its line number.
    """
    table = table.absolute()
    text = _read_table_text(table)
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_table_dialect(table, text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise InvalidValue(
            f"table {str(table)!r} is empty; fix: add a header row ImageSource,Label and one "
            "row per image",
            path=str(table),
        )
    source_column, label_column = _find_columns(table, header)
    records: list[ImageRecord] = []
    incomplete: list[int] = []
    refused: list[RefusedRow] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        source = _cell(row, source_column)
        label = unicodedata.normalize("NFC", _cell(row, label_column))
        if not source or not label:
            incomplete.append(reader.line_num)
            continue
        why = None if allow_paths_outside_table else _outside_table(source)
        if why is not None:
            refused.append(RefusedRow(reader.line_num, source, why))
            continue
        records.append(ImageRecord(_resolve_source(table, source), label))
    if incomplete:
        raise _incomplete_rows(table, incomplete)
    if refused:
        raise _rows_outside_table(table, refused)
    return records


def _read_table_text(table: Path) -> str:
    try:
        return table.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidValue(
            f"table {str(table)!r} is not UTF-8 text ({error.reason} at byte {error.start}); "
            "fix: save it as a UTF-8 CSV or TSV with the columns ImageSource,Label",
            path=str(table),
        ) from error


def _table_dialect(table: Path, text: str) -> type[csv.Dialect]:
    suffix = table.suffix.lower()
    if suffix == ".csv":
        return csv.excel
    if suffix == ".tsv":
        return csv.excel_tab
    first_line = text.split("\n", 1)[0]
    return csv.excel_tab if first_line.count("\t") > first_line.count(",") else csv.excel


def _find_columns(table: Path, header: list[str]) -> tuple[int, int]:
    names = [cell.strip().lower() for cell in header]
    missing = [column for column in TABLE_COLUMNS if column.lower() not in names]
    if missing:
        raise InvalidValue(
            f"table {str(table)!r}: missing column {' and '.join(map(repr, missing))} "
            f"(found: {', '.join(repr(cell.strip()) for cell in header)}); fix: make the "
            "first row a header with the columns ImageSource,Label",
            path=str(table),
            missing=missing,
            found=[cell.strip() for cell in header],
        )
    return names.index("imagesource"), names.index("label")


def _cell(row: list[str], column: int) -> str:
    return row[column].strip() if column < len(row) else ""


def _resolve_source(table: Path, source: str) -> Path:
    return Path(os.path.normpath(table.parent / source))


def _outside_table(source: str) -> str | None:
    """Why `source` leads outside the table's folder, or None when it stays inside."""
    if Path(source).is_absolute():
        return "an absolute path"
    # normpath folds "a/../.." to "..": what is left starting with ".." climbs out.
    if Path(os.path.normpath(source)).parts[:1] == ("..",):
        return "climbs out of the table's folder"
    return None


def _rows_outside_table(table: Path, refused: list[RefusedRow]) -> InvalidValue:
    shown = ", ".join(
        f"line {row.line} {row.source!r} ({row.why})" for row in refused[:_ROWS_SHOWN]
    )
    more = f" and {len(refused) - _ROWS_SHOWN} more" if len(refused) > _ROWS_SHOWN else ""
    return InvalidValue(
        f"table {str(table)!r}: {_rows_name(len(refused))} an image outside the table's folder "
        f"{str(table.parent)!r}: {shown}{more}; fix: keep the images in that folder (or below "
        f"it) and name them relative to it, or pass {ALLOW_OUTSIDE_OPTION} "
        "(allow_paths_outside_table=True in the SDK) to read them where they are",
        path=str(table),
        lines=[row.line for row in refused],
        sources=[row.source for row in refused[:_ROWS_SHOWN]],
    )


def _rows_name(count: int) -> str:
    return "1 row names" if count == 1 else f"{count} rows name"


def _table_without_rows(table: Path, option: DataOption) -> InvalidValue:
    return InvalidValue(
        f"{option.flag}: table {str(table)!r} has a header but no rows: nothing to"
        f" {option.purpose}; fix: add one "
        "row per image, ImageSource (its path, relative to the table) and Label",
        path=str(table),
    )


def _folder_without_images(root: Path, option: DataOption) -> InvalidValue:
    loose = any(_looks_like_image(entry) for entry in _visible_entries(root, []))
    where = (
        "its images sit directly in it, outside any label folder"
        if loose
        else f"no sub-folder of it holds an image ({', '.join(sorted(IMAGE_EXTENSIONS))})"
    )
    return InvalidValue(
        f"{option.flag} {str(root)!r} has nothing to {option.purpose}: {where}; fix: put the"
        " images in one "
        f"sub-folder per label (such as {str(root / 'cat' / '1.jpg')!r}), or pass a CSV/TSV "
        "table with ImageSource,Label",
        path=str(root),
    )


def _incomplete_rows(table: Path, lines: list[int]) -> InvalidValue:
    shown = ", ".join(str(line) for line in lines[:10])
    more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
    return InvalidValue(
        f"table {str(table)!r}: empty ImageSource or Label on line {shown}{more}; fix: fill "
        "in both columns on every row or delete those rows",
        path=str(table),
        lines=lines,
    )


# --- hashing ---------------------------------------------------------------------------------


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_fingerprint(records: Iterable[ImageRecord]) -> dict[str, Any]:
    """The same files under the same labels give the same fingerprint, wherever they live.

    Pass records that exist (a guardrail report's `usable`); a vanished file is NotFound.
    """
    pairs = []
    for record in records:
        try:
            pairs.append((record.label, content_hash(record.path)))
        except FileNotFoundError as error:
            raise NotFound(
                f"image {str(record.path)!r} vanished while fingerprinting the data set; fix: "
                "keep the data set unchanged while a run reads it",
                path=str(record.path),
            ) from error
    return fingerprint_from_hashes(pairs)


def fingerprint_from_hashes(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    ordered = sorted(pairs)
    digest = hashlib.sha256(json.dumps(ordered, ensure_ascii=False).encode()).hexdigest()
    counts = Counter(label for label, _ in ordered)
    return {"content_hash": digest, "file_count": len(ordered), "class_counts": dict(counts)}
