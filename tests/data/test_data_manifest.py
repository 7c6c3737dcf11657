"""A folder's content identity: the manifest contract the pipelines rely on, the hash cache
that spares reading unchanged files, `verify`, and the one-line refusals."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modelyard.data.manifest import HashCache, build_manifest, content_hash_of
from modelyard.errors import InvalidValue, NotFound


def _folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_bytes(b"bee")
    (root / "sub" / "a.bin").write_bytes(b"\x00\x01")
    return root


def _age(folder: Path, seconds: float = 60) -> None:
    """Files written a while ago, as real data is: the cache trusts no fresh mtime."""
    for file in folder.rglob("*"):
        if file.is_file():
            stat = file.stat()
            os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def _expected_hash(files: dict[str, bytes]) -> str:
    lines = "".join(
        f"{path}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\n"
        for path, data in sorted(files.items())
    )
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def test_content_hash_is_the_documented_contract(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    assert content_hash_of(folder) == _expected_hash({"b.txt": b"bee", "sub/a.bin": b"\x00\x01"})
    # A single file: its relpath is its name.
    assert content_hash_of(folder / "b.txt") == _expected_hash({"b.txt": b"bee"})


def test_the_hash_ignores_where_and_when_but_not_a_byte(tmp_path: Path) -> None:
    first = _folder(tmp_path / "one")
    second = _folder(tmp_path / "two")
    _age(second, 3600)
    assert content_hash_of(first) == content_hash_of(second)
    (second / "sub" / "a.bin").write_bytes(b"\x00\x02")
    assert content_hash_of(first) != content_hash_of(second)
    (second / "sub" / "a.bin").rename(second / "sub" / "c.bin")
    assert content_hash_of(first) != content_hash_of(second)


def test_unchanged_files_are_not_read_again_and_verify_reads_them(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    _age(folder)
    cache = HashCache(tmp_path / "cache" / "hashes.sqlite")
    first = build_manifest(folder, cache)
    assert (first.hashed, first.cached) == (2, 0)
    again = build_manifest(folder, cache)
    assert (again.hashed, again.cached) == (0, 2)
    assert (again.entries, again.content_hash) == (first.entries, first.content_hash)
    # Proof that the cached file is not read: rewrite it in place (same size, inode and
    # mtime): the cache still answers the old hash, which only reading could correct.
    target = folder / "b.txt"
    stat = target.stat()
    with open(target, "r+b") as handle:
        handle.write(b"BEE")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert build_manifest(folder, cache).content_hash == first.content_hash
    verified = build_manifest(folder, cache, verify=True)
    assert verified.hashed == 2 and verified.content_hash != first.content_hash
    assert verified.content_hash == content_hash_of(folder)
    # verify corrected the cache.
    assert build_manifest(folder, cache).content_hash == verified.content_hash


def test_a_changed_mtime_or_size_is_read_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    _age(folder)
    cache = HashCache(tmp_path / "hashes.sqlite")
    build_manifest(folder, cache)
    (folder / "b.txt").write_bytes(b"bees")
    os.utime(folder / "b.txt", (1_000_000_000, 1_000_000_000))  # long ago, but not as cached
    changed = build_manifest(folder, cache)
    assert (changed.hashed, changed.cached) == (1, 1)


def test_freshly_written_files_are_hashed_but_not_remembered(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    cache = HashCache(tmp_path / "hashes.sqlite")
    build_manifest(folder, cache)
    assert build_manifest(folder, cache).hashed == 2


def test_a_broken_cache_only_costs_reading(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    broken = tmp_path / "hashes.sqlite"
    broken.write_bytes(b"not a database")
    assert build_manifest(folder, HashCache(broken)).content_hash == content_hash_of(folder)


def test_links_out_of_the_folder_and_odd_files_are_refused_in_one_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    (tmp_path / "secret").write_text("outside")
    (folder / "inside-link").symlink_to(folder / "b.txt")
    assert content_hash_of(folder) == _expected_hash(
        {"b.txt": b"bee", "inside-link": b"bee", "sub/a.bin": b"\x00\x01"}
    )
    (folder / "out").symlink_to(tmp_path / "secret")
    with pytest.raises(InvalidValue, match=r"is a link to .*outside the data folder") as raised:
        content_hash_of(folder)
    assert "\n" not in str(raised.value)
    (folder / "out").unlink()
    (folder / "dir-link").symlink_to(tmp_path)
    with pytest.raises(InvalidValue, match=r"'dir-link' .* is a link to a folder"):
        content_hash_of(folder)
    (folder / "dir-link").unlink()
    os.mkfifo(folder / "pipe")
    with pytest.raises(InvalidValue, match="'pipe' in the data folder is not a regular file"):
        content_hash_of(folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "d")
    (folder / "b.txt").chmod(0)
    with pytest.raises(InvalidValue, match=r"can't read 'b\.txt'"):
        content_hash_of(folder)


def test_missing_paths_and_unwritable_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"data path .* not found"):
        content_hash_of(tmp_path / "nope")
    (tmp_path / "tabbed").mkdir()
    (tmp_path / "tabbed" / "a\tb").write_text("x")
    with pytest.raises(InvalidValue, match="holds a tab or line break"):
        content_hash_of(tmp_path / "tabbed")


def test_an_empty_folder_has_a_manifest_of_its_own(tmp_path: Path) -> None:
    # A pipeline step may write nothing to an output: its content is still a key's part.
    (tmp_path / "empty").mkdir()
    assert content_hash_of(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
