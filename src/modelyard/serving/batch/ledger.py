"""The job's output while it runs: JSON lines appended per mini-batch, safe to resume.

Two files in the run's checkpoint folder (the same folder for every attempt of the run):
`predictions.jsonl` (`{"file", "Prediction", "Score"}` per scored file) and `unreadable.jsonl`
(`{"file", "reason", "detail"}` per file that could not be scored). Each mini-batch is appended
with one write and an fsync, then `progress.json` records the counts.

The output files, not the progress record, say what is done: a kill between appending a
mini-batch and recording progress leaves lines the record does not count, and a resumed attempt
reads the files' names back and skips them, so no file is ever scored twice into the output. A
kill in the middle of a write can leave a torn last line: it is cut off on resume (its file is
scored again). The finished files are copied into `./outputs` atomically at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from modelyard.fileio import write_bytes_atomic, write_json_atomic

PREDICTIONS_FILE: Final = "predictions.jsonl"
UNREADABLE_FILE: Final = "unreadable.jsonl"
PROGRESS_FILE: Final = "progress.json"
Record = dict[str, Any]


@dataclass
class Progress:
    scored: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.scored + self.failed


class Ledger:
    """The append-only output of one run, in `folder` (its checkpoint folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.predictions = folder / PREDICTIONS_FILE
        self.unreadable = folder / UNREADABLE_FILE
        self.progress_file = folder / PROGRESS_FILE
        folder.mkdir(parents=True, exist_ok=True)
        scored = _recover(self.predictions)
        failed = _recover(self.unreadable)
        self.done: set[str] = scored | failed
        self.progress = Progress(scored=len(scored), failed=len(failed))

    def recorded_progress(self) -> Progress | None:
        """What the progress record says (it may lag the output by one mini-batch)."""
        try:
            data = json.loads(self.progress_file.read_text())
            return Progress(scored=int(data["scored"]), failed=int(data["failed"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def append(self, predictions: list[Record], failures: list[Record]) -> None:
        """One mini-batch's lines, durable before its progress is recorded."""
        _append_lines(self.predictions, predictions)
        _append_lines(self.unreadable, failures)
        self.done.update(record["file"] for record in (*predictions, *failures))
        self.progress.scored += len(predictions)
        self.progress.failed += len(failures)
        write_json_atomic(
            self.progress_file, {"scored": self.progress.scored, "failed": self.progress.failed}
        )

    def publish(self, outputs: Path, include_predictions: bool = True) -> None:
        """Copy the output into `outputs` (each file complete or absent)."""
        sources = [self.unreadable]
        if include_predictions:
            sources.insert(0, self.predictions)
        for source in sources:
            data = source.read_bytes() if source.exists() else b""
            write_bytes_atomic(outputs / source.name, data)


def _append_lines(path: Path, records: Iterable[Record]) -> None:
    data = b"".join(_line(record) for record in records)
    if not data:
        return
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _line(record: Record) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _recover(path: Path) -> set[str]:
    """The files a JSON-lines output holds, after cutting off a torn last line; a file listed
    twice (which appending never does, but a copy by hand might) is kept once."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        _truncate(path, len(whole))
    names: list[str] = []
    for line in whole.splitlines():
        names.append(str(json.loads(line)["file"]))
    if len(set(names)) != len(names):
        _rewrite_without_repeats(path, whole)
    return set(names)


def _truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())


def _rewrite_without_repeats(path: Path, whole: bytes) -> None:
    seen: set[str] = set()
    kept: list[bytes] = []
    for line in whole.splitlines(keepends=True):
        name = str(json.loads(line)["file"])
        if name not in seen:
            seen.add(name)
            kept.append(line)
    write_bytes_atomic(path, b"".join(kept))
