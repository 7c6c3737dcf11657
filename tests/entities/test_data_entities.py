"""Data assets' vocabulary: references in Azure's forms, names, types, manifest lines."""

from __future__ import annotations

import hashlib

import pytest

from modelyard.entities.data import (
    DataReference,
    DataType,
    DataVersionRequest,
    Manifest,
    ManifestEntry,
    is_data_reference,
    parse_data_reference,
)
from modelyard.errors import InvalidName, InvalidValue, LimitExceeded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data:flowers@latest", DataReference("flowers")),
        ("data:flowers:3", DataReference("flowers", 3)),
        ("azureml:flowers@latest", DataReference("flowers")),
        ("azureml:flowers:3", DataReference("flowers", 3)),
        ("azureml:my_data.v2-x:12", DataReference("my_data.v2-x", 12)),
        ("flowers", DataReference("flowers")),
        ("flowers:latest", DataReference("flowers")),
        (" data:flowers:1 ", DataReference("flowers", 1)),
    ],
)
def test_references_in_azures_forms(text: str, expected: DataReference) -> None:
    assert parse_data_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("data:", "is not one of the forms"),
        ("data:flowers:0", "is not a version number"),
        ("data:flowers:x", "is not a version number"),
        ("data:flowers@champion", "only @latest is known"),
        ("data:a:b:1", "is not a version number"),
        ("data:bad name:1", "invalid data asset name 'bad name'"),
    ],
)
def test_bad_references_are_one_line_naming_the_forms(text: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=words) as raised:
        parse_data_reference(text)
    assert "\n" not in str(raised.value)


def test_a_prefix_tells_a_reference_from_a_path_or_a_value() -> None:
    assert is_data_reference("data:flowers@latest") and is_data_reference("azureml:f:1")
    assert not is_data_reference("./flowers") and not is_data_reference("0.1")
    with pytest.raises(InvalidValue, match="has no data: prefix"):
        parse_data_reference("flowers:1", prefix_required=True)
    assert str(DataReference("f", 2)) == "data:f:2" and str(DataReference("f")) == "data:f@latest"


def test_requests_are_checked_before_anything_is_written() -> None:
    assert DataVersionRequest("flowers").check().type is DataType.URI_FOLDER
    with pytest.raises(InvalidName, match="invalid data asset name"):
        DataVersionRequest("with:colon").check()
    with pytest.raises(LimitExceeded, match="description is 5001 characters"):
        DataVersionRequest("f", description="x" * 5001).check()
    with pytest.raises(InvalidValue, match="data type 'folder' is not one of uri_folder"):
        DataType.parse("folder")


def test_the_manifest_hash_is_the_sha256_of_its_sorted_lines() -> None:
    entries = [ManifestEntry("b.txt", 1, "b" * 64), ManifestEntry("a/x.png", 20, "a" * 64)]
    manifest = Manifest.of(entries)
    text = f"a/x.png\t20\t{'a' * 64}\nb.txt\t1\t{'b' * 64}\n"
    assert manifest.text() == text
    assert manifest.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert Manifest.from_text(text) == manifest
    assert (manifest.file_count, manifest.total_bytes) == (2, 21)
