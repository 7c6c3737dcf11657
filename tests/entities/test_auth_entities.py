"""Users and tokens as plain records: they travel as dicts, and a token never carries its secret."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from modelyard.entities import (
    ApiToken,
    Role,
    User,
    limits,
    validate_token_name,
    validate_user_name,
)
from modelyard.errors import InvalidName, InvalidValue

CREATED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_user_round_trips_through_its_dict() -> None:
    user = User(id="u1", name="ana@example.com", role=Role.CONTRIBUTOR, created_at=CREATED)
    assert user.to_dict() == {
        "id": "u1",
        "name": "ana@example.com",
        "role": "contributor",
        "created_at": "2026-11-23T14:00:00+00:00",
    }
    assert User.from_dict(user.to_dict()) == user
    assert not user.is_admin
    assert dataclasses.replace(user, role=Role.ADMIN).is_admin


def test_token_round_trips_through_its_dict_and_has_no_secret() -> None:
    token = ApiToken(id="t1", user_name="admin", name="ci", created_at=CREATED)
    assert ApiToken.from_dict(token.to_dict()) == token
    assert not token.is_revoked
    revoked = dataclasses.replace(token, last_used_at=CREATED, revoked_at=CREATED)
    assert revoked.is_revoked
    assert ApiToken.from_dict(revoked.to_dict()) == revoked
    fields = {field.name for field in dataclasses.fields(ApiToken)} | set(token.to_dict())
    assert not any("secret" in name or "hash" in name for name in fields)


@pytest.mark.parametrize("name", ["admin", "ana@example.com", "a", "a" * limits.USER_NAME_MAX])
def test_user_names_accepted(name: str) -> None:
    assert validate_user_name(name) == name


@pytest.mark.parametrize("name", ["", "-ana", "ana smith", "a" * (limits.USER_NAME_MAX + 1)])
def test_user_names_refused_with_rule_and_value(name: str) -> None:
    with pytest.raises(InvalidName, match="1–64 characters") as caught:
        validate_user_name(name)
    assert repr(name) in caught.value.message


@pytest.mark.parametrize("name", ["ci", "ci-nightly", "laptop_2.0"])
def test_token_names_accepted(name: str) -> None:
    assert validate_token_name(name) == name


@pytest.mark.parametrize("name", ["", "ci nightly", "a@b", "a" * (limits.TOKEN_NAME_MAX + 1)])
def test_token_names_refused_with_rule_and_value(name: str) -> None:
    with pytest.raises(InvalidName, match="invalid token name") as caught:
        validate_token_name(name)
    assert repr(name) in caught.value.message


def test_role_is_parsed_from_its_name_with_a_clear_refusal() -> None:
    assert Role.parse("admin") is Role.ADMIN and Role.parse("contributor") is Role.CONTRIBUTOR
    assert Role.parse("reader") is Role.READER
    with pytest.raises(InvalidValue, match="unknown role 'root': use one of reader, contributor"):
        Role.parse("root")


def test_each_role_includes_the_ones_below_it() -> None:
    reader, contributor, admin = Role.READER, Role.CONTRIBUTOR, Role.ADMIN
    assert admin.includes(contributor) and admin.includes(reader) and admin.includes(admin)
    assert contributor.includes(reader) and not contributor.includes(admin)
    assert not reader.includes(contributor)
