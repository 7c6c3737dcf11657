"""Atomic writes of whole folders: all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists
from modelyard.fileio import folder_written_atomically


def test_the_folder_appears_whole_and_replaces_an_empty_one(tmp_path: Path) -> None:
    destination = tmp_path / "project"
    destination.mkdir()
    with folder_written_atomically(destination) as partial:
        partial.mkdir()
        (partial / "model.onnx").write_bytes(b"onnx")
        assert not (destination / "model.onnx").exists()  # nothing visible until the end
    assert (destination / "model.onnx").read_bytes() == b"onnx"
    assert [path.name for path in tmp_path.iterdir()] == ["project"]


def test_a_failed_write_leaves_nothing_and_a_killed_one_is_cleaned_next_time(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "out" / "project"
    with pytest.raises(OSError), folder_written_atomically(destination) as partial:
        partial.mkdir()
        (partial / "half.bin").write_bytes(b"half")
        raise OSError("disk full")
    assert not destination.exists() and list((tmp_path / "out").iterdir()) == []
    (tmp_path / "out" / ".project.partial").mkdir()  # what a killed write leaves behind
    with folder_written_atomically(destination) as partial:
        partial.mkdir()
    assert destination.is_dir() and list((tmp_path / "out").iterdir()) == [destination]


def test_a_destination_filled_meanwhile_is_left_alone_with_a_clear_error(tmp_path: Path) -> None:
    destination = tmp_path / "project"
    with (
        pytest.raises(AlreadyExists, match="no longer an empty folder"),
        folder_written_atomically(destination) as partial,
    ):
        partial.mkdir()
        (partial / "model.onnx").write_bytes(b"new")
        destination.mkdir()
        (destination / "mine.txt").write_text("the user's")
    assert [path.name for path in destination.iterdir()] == ["mine.txt"]
    assert [path.name for path in tmp_path.iterdir()] == ["project"]  # no partial left
