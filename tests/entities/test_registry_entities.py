"""The registry's vocabulary: model names, aliases, versions and references in every spelling,
and what a bad one says (one line, the value, the forms)."""

from __future__ import annotations

import pytest

from modelyard.entities import validate_model_name
from modelyard.entities.registry import (
    ModelReference,
    ModelVersionRequest,
    parse_model_reference,
    validate_alias,
)
from modelyard.errors import InvalidName, InvalidValue, LimitExceeded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flowers", ModelReference("flowers")),
        ("flowers:3", ModelReference("flowers", version=3)),
        ("flowers:latest", ModelReference("flowers")),
        ("flowers@champion", ModelReference("flowers", alias="champion")),
        ("models:/flowers/3", ModelReference("flowers", version=3)),
        ("models:/flowers/latest", ModelReference("flowers")),
        ("models:/flowers@staging", ModelReference("flowers", alias="staging")),
        ("my.model_v2-x", ModelReference("my.model_v2-x")),
    ],
)
def test_references_in_every_spelling(text: str, expected: ModelReference) -> None:
    assert parse_model_reference(text) == expected


def test_a_reference_prints_as_it_is_written() -> None:
    assert [str(parse_model_reference(t)) for t in ("a", "a:2", "a@b")] == ["a", "a:2", "a@b"]


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("", InvalidValue, "is empty"),
        ("flowers:0", InvalidValue, "version '0' is not a version number"),
        ("flowers:-1", InvalidValue, "is not a version number"),
        ("flowers:99999999999", InvalidValue, "is not a version number"),
        ("flowers@1st", InvalidName, "invalid alias '1st'"),
        ("flowers@", InvalidName, "invalid alias ''"),
        ("models:/flowers", InvalidValue, "names no version"),
        ("a b", InvalidName, "invalid model name 'a b'"),
        ("-x", InvalidName, "start with a letter or digit"),
    ],
)
def test_bad_references_are_one_line_naming_the_value(text: str, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        parse_model_reference(text)
    assert words in caught.value.message and "\n" not in caught.value.message


def test_model_names_and_aliases_at_their_edges() -> None:
    assert validate_model_name("a" * 255) == "a" * 255
    with pytest.raises(InvalidName, match="1–255 characters"):
        validate_model_name("a" * 256)
    assert validate_alias("c" * 64) == "c" * 64
    for bad in ("c" * 65, "latest", "LATEST", "a.b", "a b"):
        with pytest.raises(InvalidName, match="invalid alias"):
            validate_alias(bad)


def test_a_request_checks_tags_properties_description_and_framework() -> None:
    assert ModelVersionRequest("m", tags={"k": "v"}).check().tags == {"k": "v"}
    with pytest.raises(InvalidValue, match="property 'k' has a float value"):
        ModelVersionRequest("m", properties={"k": 0.5}).check()  # type: ignore[dict-item]
    with pytest.raises(LimitExceeded, match="over the limit of 5000"):
        ModelVersionRequest("m", description="x" * 5001).check()
    with pytest.raises(InvalidValue, match="framework '' must be 1–64 characters"):
        ModelVersionRequest("m", framework="").check()
