"""API tokens: only their hash is kept, a presented token maps to its user, anything else is refused
alike; the first admin and the local credentials file."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.entities import Role
from modelyard.errors import AuthError, InvalidValue, NotFound
from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from server.serving import serve

TOKEN_SHAPE = re.compile(r"myd_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


@pytest.fixture
def admin_ws(sqlite_workspace: OpenWorkspace) -> OpenWorkspace:
    sqlite_workspace.store.create_user("admin", Role.ADMIN)
    return sqlite_workspace


def test_token_round_trip_on_every_backend(workspace: OpenWorkspace) -> None:
    workspace.store.create_user("admin", Role.ADMIN)
    token, plaintext = auth.create_token(workspace, "ci")
    user = auth.authenticate(workspace, plaintext)
    assert user.name == "admin" and user.role is Role.ADMIN
    assert token.name == "ci" and token.user_name == "admin"


def test_token_reads_prefix_id_secret_and_only_the_hash_is_stored(admin_ws: OpenWorkspace) -> None:
    token, plaintext = auth.create_token(admin_ws, "ci")
    shape = TOKEN_SHAPE.fullmatch(plaintext)
    assert shape is not None and shape[1] == token.id
    stored_hash = admin_ws.store.get_stored_token(token.id).secret_hash
    assert stored_hash == hashlib.sha256(shape[2].encode()).hexdigest()
    admin_ws.close()
    database = b"".join(path.read_bytes() for path in admin_ws.root.glob("modelyard.db*"))
    assert shape[2].encode() not in database


def test_each_token_is_new(admin_ws: OpenWorkspace) -> None:
    tokens = {auth.create_token(admin_ws, "ci")[1] for _ in range(3)}
    assert len(tokens) == 3


def test_token_acts_as_its_own_user(admin_ws: OpenWorkspace) -> None:
    admin_ws.store.create_user("ana", Role.CONTRIBUTOR)
    _, plaintext = auth.create_token(admin_ws, "laptop", user_name="ana")
    assert auth.authenticate(admin_ws, plaintext).name == "ana"
    with pytest.raises(NotFound, match="user 'bob' not found"):
        auth.create_token(admin_ws, "laptop", user_name="bob")


def test_revoked_token_is_refused(admin_ws: OpenWorkspace) -> None:
    token, plaintext = auth.create_token(admin_ws, "ci")
    auth.revoke_token(admin_ws, token.id)
    with pytest.raises(AuthError, match=f"API token 'ci' \\({token.id}\\) was revoked"):
        auth.authenticate(admin_ws, plaintext)


def test_wrong_secret_and_unknown_id_are_refused_alike(admin_ws: OpenWorkspace) -> None:
    token, plaintext = auth.create_token(admin_ws, "ci")
    wrong_secret = plaintext[:-4] + ("AAAA" if not plaintext.endswith("AAAA") else "BBBB")
    unknown_id = auth.format_token("0" * 32, TOKEN_SHAPE.fullmatch(plaintext)[2])  # type: ignore[index]
    refusals = [_refusal(admin_ws, presented) for presented in (wrong_secret, unknown_id)]
    assert refusals[0] == refusals[1]
    assert refusals[0][0].startswith("invalid API token")
    assert token.id not in refusals[0][0]


def test_secret_is_compared_in_constant_time_even_for_an_unknown_id(
    admin_ws: OpenWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    _spy_on(monkeypatch, compared)
    _, plaintext = auth.create_token(admin_ws, "ci")
    auth.authenticate(admin_ws, plaintext)
    _refusal(admin_ws, auth.format_token("0" * 32, "x" * 43))
    assert len(compared) == 2


def _spy_on(monkeypatch: pytest.MonkeyPatch, compared: list[tuple[str, str]]) -> None:
    original: Callable[[str, str], bool] = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "myd",
        "not-a-token",
        "Bearer myd_" + "a" * 32 + "_" + "s" * 43,
        "myd_" + "A" * 32 + "_" + "s" * 43,  # ids are lowercase hex
        "myd_" + "a" * 31 + "_" + "s" * 43,
        "myd_" + "a" * 32 + "_" + "s" * 10,
        "myd_" + "a" * 32 + "_" + "s" * 42 + "!",
        "myd_" + "a" * 32 + "_" + "s" * 500,
        "ghp_" + "a" * 32 + "_" + "s" * 43,
    ],
)
def test_malformed_token_is_refused_without_echoing_it(
    admin_ws: OpenWorkspace, presented: str
) -> None:
    message, context = _refusal(admin_ws, presented)
    assert message.startswith("malformed API token: expected myd_<id>_<secret>")
    assert context == {}
    tail_of_presented = presented[-12:]  # where a secret would be
    assert len(presented) < 12 or tail_of_presented not in message


def test_use_is_recorded_at_most_once_a_minute(
    admin_ws: OpenWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, plaintext = auth.create_token(admin_ws, "ci")
    auth.authenticate(admin_ws, plaintext)
    first_use = admin_ws.store.get_stored_token(token.id).token.last_used_at
    assert first_use is not None
    touched: list[str] = []
    monkeypatch.setattr(admin_ws.store, "touch_token", touched.append)
    auth.authenticate(admin_ws, plaintext)
    assert touched == []


def test_list_and_revoke(admin_ws: OpenWorkspace) -> None:
    first, _ = auth.create_token(admin_ws, "ci")
    second, _ = auth.create_token(admin_ws, "laptop")
    auth.revoke_token(admin_ws, first.id)
    listed = {token.name: token for token in auth.list_tokens(admin_ws)}
    assert listed["ci"].is_revoked and not listed["laptop"].is_revoked
    assert listed["laptop"] == second


# The first admin and the credentials file -----------------------------------------------------


def test_first_admin_is_created_once_with_a_private_credentials_file(
    sqlite_workspace: OpenWorkspace,
) -> None:
    plaintext = auth.ensure_admin(sqlite_workspace)
    assert plaintext is not None and TOKEN_SHAPE.fullmatch(plaintext)
    path = sqlite_workspace.root / "credentials.json"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {"token": plaintext}
    assert auth.read_local_token(sqlite_workspace.root) == plaintext
    user = auth.authenticate(sqlite_workspace, plaintext)
    assert (user.name, user.role) == ("admin", Role.ADMIN)
    assert [t.name for t in auth.list_tokens(sqlite_workspace)] == ["admin"]

    assert auth.ensure_admin(sqlite_workspace) is None
    assert json.loads(path.read_text()) == {"token": plaintext}
    assert sqlite_workspace.store.count_users() == 1
    assert len(auth.list_tokens(sqlite_workspace)) == 1


def test_no_admin_is_made_where_users_exist(sqlite_workspace: OpenWorkspace) -> None:
    sqlite_workspace.store.create_user("ana", Role.CONTRIBUTOR)
    assert auth.ensure_admin(sqlite_workspace) is None
    assert not (sqlite_workspace.root / "credentials.json").exists()


def test_credentials_readable_by_others_are_refused(tmp_path: Path) -> None:
    path = auth.write_local_token(tmp_path, "myd_token")
    os.chmod(path, 0o644)
    with pytest.raises(AuthError, match=f"mode 0644\\): run `chmod 600 {path}`"):
        auth.read_local_token(tmp_path)
    os.chmod(path, 0o640)
    with pytest.raises(AuthError, match="accessible by other users"):
        auth.read_local_token(tmp_path)
    os.chmod(path, 0o600)
    assert auth.read_local_token(tmp_path) == "myd_token"


def test_missing_credentials_are_none_and_damaged_ones_are_refused(tmp_path: Path) -> None:
    assert auth.read_local_token(tmp_path) is None
    path = tmp_path / "credentials.json"
    for damaged in ("{not json", '{"other": 1}', '{"token": ""}', "[1]"):
        path.write_text(damaged)
        os.chmod(path, 0o600)
        with pytest.raises(InvalidValue, match=r"credentials file .* (is damaged|holds no token)"):
            auth.read_local_token(tmp_path)


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELYARD_TOKEN", raising=False)
    assert auth.token_from_environment() is None
    monkeypatch.setenv("MODELYARD_TOKEN", "  ")
    assert auth.token_from_environment() is None
    monkeypatch.setenv("MODELYARD_TOKEN", " myd_abc \n")
    assert auth.token_from_environment() == "myd_abc"


def _refusal(ws: OpenWorkspace, presented: str) -> tuple[str, dict[str, object]]:
    with pytest.raises(AuthError) as caught:
        auth.authenticate(ws, presented)
    return caught.value.message, caught.value.context


def test_a_client_of_a_server_manages_users_and_tokens_through_it(
    sqlite_workspace: OpenWorkspace,
) -> None:
    """Behind a server, the same calls go to its /users and /tokens routes with the client's
    own token (its role decides); checking a token or making the first admin stays on the
    server's machine, and says so in one line."""
    assert auth.ensure_admin(sqlite_workspace) is not None
    _token, plaintext = auth.create_token(sqlite_workspace, "laptop")
    with serve(create_app(sqlite_workspace)) as url:
        remote = open_remote_workspace(url, plaintext)
        try:
            user = auth.create_user(remote, "ana", Role.CONTRIBUTOR)
            assert (user.name, user.role) == ("ana", Role.CONTRIBUTOR)
            assert [u.name for u in auth.list_users(remote)] == ["admin", "ana"]
            token, secret = auth.create_token(remote, "ana-laptop", "ana")
            assert token.user_name == "ana" and auth.authenticate(sqlite_workspace, secret)
            mine, _ = auth.create_token(remote, "mine", None)  # for whoever is calling
            assert mine.user_name == "admin"
            assert auth.revoke_token(remote, token.id).is_revoked
            listed = {t.name: t.is_revoked for t in auth.list_tokens(remote)}
            assert listed == {"admin": False, "laptop": False, "ana-laptop": True, "mine": False}
            for local_only in (
                lambda: auth.ensure_admin(remote),
                lambda: auth.authenticate(remote, plaintext),
            ):
                with pytest.raises(InvalidValue, match=r"runs on the server's machine only"):
                    local_only()
        finally:
            remote.close()
