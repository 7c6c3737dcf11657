"""`content_hash_of`: the contract the pipelines' reuse keys rely on, written out by hand."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from modelyard.data.manifest import content_hash_of


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_folder_hashes_its_sorted_manifest_lines(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "b").mkdir(parents=True)
    (folder / "b" / "x.txt").write_bytes(b"xx")
    (folder / "a.txt").write_bytes(b"a")
    (folder / "empty").mkdir()
    lines = f"a.txt\t1\t{sha(b'a')}\nb/x.txt\t2\t{sha(b'xx')}\n"
    assert content_hash_of(folder) == sha(lines.encode())


def test_a_file_is_its_own_name_and_content(tmp_path: Path) -> None:
    file = tmp_path / "rows.csv"
    file.write_bytes(b"1,2\n")
    line = "rows.csv\t4\t" + sha(b"1,2\n") + "\n"
    assert content_hash_of(file) == sha(line.encode())


def test_content_counts_times_do_not(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("1")
    before = content_hash_of(folder)
    os.utime(folder / "a.txt", (1, 1))
    assert content_hash_of(folder) == before
    (folder / "a.txt").write_text("2")  # same size, changed in place
    assert content_hash_of(folder) != before
