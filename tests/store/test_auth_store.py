"""Users and API tokens in the SQL store, on real SQLite and real PostgreSQL alike."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from modelyard.entities import Role
from modelyard.errors import AlreadyExists, InvalidName, InvalidValue, NotFound
from modelyard.services.workspaces import OpenWorkspace

HASH = hashlib.sha256(b"secret").hexdigest()


def test_users_are_created_once_and_counted(workspace: OpenWorkspace) -> None:
    store = workspace.store
    assert store.count_users() == 0
    admin = store.create_user("admin", Role.ADMIN)
    member = store.create_user("ana@example.com", Role.CONTRIBUTOR)
    assert store.count_users() == 2
    assert store.get_user("admin") == admin and admin.role is Role.ADMIN
    assert store.get_user("ana@example.com").role is Role.CONTRIBUTOR and member.id != admin.id
    assert admin.created_at.tzinfo is not None
    with pytest.raises(AlreadyExists, match="user 'admin' already exists"):
        store.create_user("admin", Role.CONTRIBUTOR)
    assert store.count_users() == 2


def test_unknown_user_and_bad_name_are_refused(workspace: OpenWorkspace) -> None:
    with pytest.raises(NotFound, match="user 'nobody' not found"):
        workspace.store.get_user("nobody")
    with pytest.raises(InvalidName):
        workspace.store.create_user("has space", Role.CONTRIBUTOR)
    with pytest.raises(
        InvalidValue, match="unknown role 'owner': use one of reader, contributor, admin"
    ):
        workspace.store.create_user("ana", "owner")  # type: ignore[arg-type]
    assert workspace.store.count_users() == 0


def test_token_keeps_its_hash_apart_from_the_entity(workspace: OpenWorkspace) -> None:
    store = workspace.store
    store.create_user("admin", Role.ADMIN)
    token = store.create_token("admin", "ci", HASH)
    assert (token.user_name, token.name) == ("admin", "ci")
    assert token.last_used_at is None and token.revoked_at is None
    stored = store.get_stored_token(token.id)
    found, stored_hash = stored.token, stored.secret_hash
    assert stored.user == store.get_user(found.user_name)
    assert found == token and stored_hash == HASH
    assert HASH not in str(token.to_dict())


def test_token_needs_a_user_a_name_and_a_hash_not_a_secret(workspace: OpenWorkspace) -> None:
    store = workspace.store
    with pytest.raises(NotFound, match="user 'admin' not found"):
        store.create_token("admin", "ci", HASH)
    store.create_user("admin", Role.ADMIN)
    with pytest.raises(InvalidValue, match="never as plaintext"):
        store.create_token("admin", "ci", "myd-plaintext-secret")
    with pytest.raises(InvalidValue, match="never as plaintext"):
        store.create_token("admin", "ci", HASH.upper())
    with pytest.raises(InvalidName):
        store.create_token("admin", "bad name", HASH)
    assert store.list_tokens() == []


def test_tokens_are_listed_oldest_first_with_their_users(workspace: OpenWorkspace) -> None:
    store = workspace.store
    store.create_user("admin", Role.ADMIN)
    store.create_user("ana", Role.CONTRIBUTOR)
    first = store.create_token("admin", "ci", HASH)
    second = store.create_token("ana", "laptop", HASH)
    again = store.create_token("ana", "laptop", HASH)  # Same name: rotating a token is allowed.
    assert store.list_tokens() == [first, second, again]
    assert [t.user_name for t in store.list_tokens()] == ["admin", "ana", "ana"]


def test_revoking_is_final_and_keeps_the_first_time(workspace: OpenWorkspace) -> None:
    store = workspace.store
    store.create_user("admin", Role.ADMIN)
    token = store.create_token("admin", "ci", HASH)
    revoked = store.revoke_token(token.id)
    assert revoked.revoked_at is not None and revoked.revoked_at >= token.created_at
    assert store.revoke_token(token.id).revoked_at == revoked.revoked_at
    assert store.get_stored_token(token.id).token == revoked
    assert store.list_tokens() == [revoked]


def test_unknown_token_id_is_not_found(workspace: OpenWorkspace) -> None:
    for call in (workspace.store.get_stored_token, workspace.store.revoke_token):
        with pytest.raises(NotFound, match="API token 'f00' not found"):
            call("f00")


def test_touch_records_the_last_use(workspace: OpenWorkspace) -> None:
    store = workspace.store
    store.create_user("admin", Role.ADMIN)
    token = store.create_token("admin", "ci", HASH)
    before = datetime.now(UTC)
    store.touch_token(token.id)
    used = store.get_stored_token(token.id).token.last_used_at
    assert used is not None and used >= before.replace(microsecond=0)
    store.touch_token("unknown")  # Nothing to record: no error either.
