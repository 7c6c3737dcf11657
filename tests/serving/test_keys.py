"""KeyRing: keys from the environment or a file that is read again whenever it changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from replicas import write_keys

from modelyard.errors import InvalidValue
from modelyard.serving.keys import PRIMARY_ENV, SECONDARY_ENV, KeyRing


def test_keys_from_the_environment() -> None:
    ring = KeyRing.from_environment(None, {PRIMARY_ENV: "p", SECONDARY_ENV: "s"})
    assert ring.accepts("p") and ring.accepts("s")
    assert not ring.accepts("") and not ring.accepts("P") and not ring.accepts("x")


def test_no_key_anywhere_is_refused_at_start() -> None:
    with pytest.raises(InvalidValue, match="key auth is on but no key was given"):
        KeyRing.from_environment(None, {})


def test_a_rewritten_file_changes_the_keys_at_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, "old", "other")
    ring = KeyRing.from_environment(path, {PRIMARY_ENV: "from-env-ignored"})
    assert ring.accepts("old") and ring.accepts("other") and not ring.accepts("from-env-ignored")
    write_keys(path, "new", "other")
    assert not ring.accepts("old") and ring.accepts("new") and ring.accepts("other")


def test_an_in_place_rewrite_is_seen_too(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, "first")
    ring = KeyRing(keys_file=path)
    path.write_text('{"primaryKey": "second!"}')  # same inode, different size
    assert ring.accepts("second!") and not ring.accepts("first")


def test_a_broken_or_missing_file_accepts_no_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, "good")
    ring = KeyRing(keys_file=path)
    path.write_text("{broken")
    assert not ring.accepts("good")
    os.remove(path)
    assert not ring.accepts("good")
    write_keys(path, "good")
    assert ring.accepts("good")


@pytest.mark.parametrize(
    ("text", "words"),
    [("[1]", "not an object"), ('{"primaryKey": 3}', "not an object"),
     ('{"primaryKey": ""}', "holds no key"), ("nope", "cannot be read as JSON")],
)  # fmt: skip
def test_a_bad_file_at_start_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(text)
    with pytest.raises(InvalidValue, match=words) as raised:
        KeyRing(keys_file=path)
    assert "\n" not in raised.value.message
