"""Atomic writes of files and whole folders: all or nothing, with the modes of any new file;
what killed writes left is removed once old."""

from __future__ import annotations

import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists
from modelyard.fileio import (
    folder_written_atomically,
    remove_stale_entries,
    remove_stale_temp_files,
    write_bytes_atomic,
    write_json_atomic,
)


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


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_an_atomic_write_gets_the_mode_of_any_new_file_under_the_umask(
    tmp_path: Path, umask_022: None
) -> None:
    # A temp file made by mkstemp is 0600, and the rename would publish that mode.
    write_bytes_atomic(tmp_path / "model.onnx", b"onnx")
    write_json_atomic(tmp_path / "guardrails.json", {"passed": True})
    os.umask(0o077)
    write_bytes_atomic(tmp_path / "private.bin", b"private")

    assert _mode(tmp_path / "model.onnx") == 0o644
    assert _mode(tmp_path / "guardrails.json") == 0o644
    assert _mode(tmp_path / "private.bin") == 0o600


def test_an_explicit_mode_is_set_exactly_whatever_the_umask(
    tmp_path: Path, umask_022: None
) -> None:
    write_json_atomic(tmp_path / "credentials.json", {"token": "secret"}, mode=0o600)
    os.umask(0o077)
    write_bytes_atomic(tmp_path / "shared.txt", b"shared", mode=0o644)

    assert _mode(tmp_path / "credentials.json") == 0o600
    assert _mode(tmp_path / "shared.txt") == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["credentials.json", "shared.txt"]


def test_a_folder_of_atomic_writes_copied_into_place_keeps_their_modes(
    tmp_path: Path, umask_022: None
) -> None:
    # What `--output` does with a run's outputs.
    outputs = tmp_path / "outputs"
    write_bytes_atomic(outputs / "evaluation" / "confusion_matrix.png", b"png")
    with folder_written_atomically(tmp_path / "project") as partial:
        shutil.copytree(outputs, partial)

    assert _mode(tmp_path / "project" / "evaluation" / "confusion_matrix.png") == 0o644


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _age(path: Path, seconds: float = 7200) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def _old_file(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _age(path)


def test_stale_temp_files_of_killed_writes_go_and_fresh_ones_stay(tmp_path: Path) -> None:
    outputs = tmp_path / "run" / "outputs"
    stale = _old_file(outputs / f".tmp-{uuid.uuid4().hex}", b"half an upload")
    fresh = outputs / f".tmp-{uuid.uuid4().hex}"
    fresh.write_bytes(b"an upload in progress")
    users_own = _old_file(outputs / ".tmp-notes.txt", b"not a name our writes make")
    assert remove_stale_temp_files(tmp_path, max_age_s=3600) == [stale]
    assert fresh.exists() and users_own.exists()


def test_a_temp_folder_goes_only_when_nothing_in_it_is_fresh(tmp_path: Path) -> None:
    old, busy = tmp_path / f".tmp-{uuid.uuid4().hex}", tmp_path / f".tmp-{uuid.uuid4().hex}"
    for folder in (old, busy):
        _old_file(folder / "sub" / "copied.py")
    (busy / "sub" / "being_copied.py").write_text("fresh")
    for folder in (old, busy):
        _age(folder / "sub")
        _age(folder)
    assert remove_stale_temp_files(tmp_path, max_age_s=3600) == [old]
    assert busy.is_dir()


def test_links_are_removed_as_links_and_skipped_folders_not_entered(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    _old_file(target / "data.bin", b"keep")
    link = tmp_path / "area" / f".tmp-{uuid.uuid4().hex}"
    link.parent.mkdir()
    link.symlink_to(target)
    _age(link)
    in_skipped = _old_file(tmp_path / "skipped" / f".tmp-{uuid.uuid4().hex}")
    removed = remove_stale_temp_files(tmp_path, 3600, skip=lambda folder: folder.name == "skipped")
    assert removed == [link]
    assert (target / "data.bin").read_bytes() == b"keep" and in_skipped.exists()


def test_stale_scratch_entries_go_whole(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    _old_file(staging / "killed" / "snapshot" / "train.py")
    _age(staging / "killed" / "snapshot")
    _age(staging / "killed")
    (staging / "live").mkdir()
    assert remove_stale_entries(staging, 3600) == [staging / "killed"]
    assert [entry.name for entry in staging.iterdir()] == ["live"]
    assert remove_stale_entries(tmp_path / "missing", 3600) == []
