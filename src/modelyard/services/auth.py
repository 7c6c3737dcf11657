"""API tokens: issue, check, list and revoke them; the first admin; the local credentials file.

A token reads ``myd_<token id>_<secret>``: the id (32 hex digits) finds the stored record, the
secret (``secrets.token_urlsafe(32)``, 256 random bits) proves possession. Only the secret's
SHA-256 is stored: a fast hash is enough for a random 256-bit secret (nothing to brute-force, unlike
a password), and it keeps checking a request cheap. Refusals never say whether an id exists.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.entities import ApiToken, Caller, Role, Run, User, validate_user_name
from modelyard.errors import AlreadyExists, AuthError, InvalidValue, NotFound
from modelyard.fileio import write_json_atomic
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.base import StoredToken

if TYPE_CHECKING:
    from modelyard.store.rest_access import RestAccess

TOKEN_PREFIX = "myd"
TOKEN_ENV = "MODELYARD_TOKEN"
CREDENTIALS_FILE = "credentials.json"
ADMIN_NAME = "admin"
# last_used_at is kept to the minute: writing it on every request would make every read, even on
# SQLite, wait for the database's write lock.
TOUCH_INTERVAL = timedelta(minutes=1)

# myd_<32 hex>_<43 URL-safe base64 characters>; a little slack on the secret's length, none on
# its alphabet, so nothing odd ever reaches the database query.
_TOKEN_FORMAT = re.compile(
    rf"{TOKEN_PREFIX}_(?P<id>[0-9a-f]{{32}})_(?P<secret>[A-Za-z0-9_-]{{32,128}})"
)
_INVALID_TOKEN = (
    "invalid API token: check it, or create a new one with `modelyard token create NAME`"
)
# Compared against when the id is unknown, so that case costs the same as a wrong secret.
_UNKNOWN_ID_HASH = hashlib.sha256(b"no such token").hexdigest()


# Issuing and checking tokens ------------------------------------------------------------------


def create_token(
    ws: OpenWorkspace, name: str, user_name: str | None = ADMIN_NAME
) -> tuple[ApiToken, str]:
    """A new token for `user_name`; the plaintext is returned here once and never again.
    Behind a server, the server makes it (`user_name` None: for whoever is calling)."""
    if ws.server_url is not None:
        return _remote(ws).create_token(name, user_name)
    user_name = user_name or ADMIN_NAME
    secret = secrets.token_urlsafe(32)
    token = ws.auth_store.create_token(user_name, name, hash_secret(secret))
    return token, format_token(token.id, secret)


def create_run_token(ws: OpenWorkspace, run: Run) -> tuple[ApiToken, str]:
    """A job's token: it acts for the run's user on that run alone, while the run runs."""
    secret = secrets.token_urlsafe(32)
    token = ws.auth_store.create_token(run.user, f"run-{run.id}", hash_secret(secret), run.id)
    return token, format_token(token.id, secret)


def create_user(ws: OpenWorkspace, name: str, role: Role | str) -> User:
    validate_user_name(name)
    if ws.server_url is not None:
        return _remote(ws).create_user(name, Role.parse(role))
    return ws.auth_store.create_user(name, Role.parse(role))


def list_users(ws: OpenWorkspace) -> list[User]:
    if ws.server_url is not None:
        return _remote(ws).list_users()
    return ws.auth_store.list_users()


def authenticate(ws: OpenWorkspace, presented: str) -> Caller:
    """Who a presented token speaks for; AuthError for anything but a valid, live token."""
    token_id, secret = parse_token(presented)
    stored = _stored_token(ws, token_id)
    stored_hash = _UNKNOWN_ID_HASH if stored is None else stored.secret_hash
    if not hmac.compare_digest(hash_secret(secret), stored_hash) or stored is None:
        raise AuthError(_INVALID_TOKEN)
    token = stored.token
    if token.is_revoked:
        # Said only to whoever holds the right secret, so it reveals nothing to a guesser.
        raise AuthError(
            f"API token {token.name!r} ({token.id}) was revoked: create a new one with"
            " `modelyard token create NAME`",
            token_id=token.id,
        )
    _record_use(ws, token)
    return Caller(stored.user, token.run_id)


def list_tokens(ws: OpenWorkspace) -> list[ApiToken]:
    """Every token (behind a server: the caller's own, or everyone's for an admin)."""
    if ws.server_url is not None:
        return _remote(ws).list_tokens()
    return ws.auth_store.list_tokens()


def token_owner(ws: OpenWorkspace, token_id: str) -> str:
    """The name of the user a token belongs to; NotFound for an unknown id."""
    return ws.auth_store.get_stored_token(token_id).token.user_name


def revoke_token(ws: OpenWorkspace, token_id: str) -> ApiToken:
    if ws.server_url is not None:
        return _remote(ws).revoke_token(token_id)
    return ws.auth_store.revoke_token(token_id)


def _remote(ws: OpenWorkspace) -> RestAccess:
    from modelyard.store.rest_access import RestAccess  # httpx only where a server is used

    return RestAccess(ws.rest_store.client)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_token(token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def parse_token(presented: str) -> tuple[str, str]:
    """(token id, secret); AuthError, quoting nothing of the token, when it is not one of ours."""
    match = _TOKEN_FORMAT.fullmatch(presented.strip())
    if match is None:
        raise AuthError(
            f"malformed API token: expected {TOKEN_PREFIX}_<id>_<secret>, as printed by"
            " `modelyard token create NAME`"
        )
    return match["id"], match["secret"]


def _stored_token(ws: OpenWorkspace, token_id: str) -> StoredToken | None:
    try:
        return ws.auth_store.get_stored_token(token_id)
    except NotFound:
        return None


def _record_use(ws: OpenWorkspace, token: ApiToken) -> None:
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        ws.auth_store.touch_token(token.id)


# The first admin ------------------------------------------------------------------------------


def ensure_admin(ws: OpenWorkspace) -> str | None:
    """On a workspace without users, create "admin" with a token saved to the credentials file.

    Returns that token's plaintext, or None when the workspace already has users (then nothing
    is created or written). Auth is on by default, so the first start needs someone who can log in.
    """
    if ws.auth_store.count_users() > 0:
        return None
    try:
        ws.auth_store.create_user(ADMIN_NAME, Role.ADMIN)
    except AlreadyExists:
        return None  # Another process (a second server starting) got there first.
    _token, plaintext = create_token(ws, ADMIN_NAME, ADMIN_NAME)
    write_local_token(ws.root, plaintext)
    return plaintext


# Where clients find a token -------------------------------------------------------------------


def credentials_path(root: Path) -> Path:
    return root / CREDENTIALS_FILE


def write_local_token(root: Path, token: str) -> Path:
    """Save `token` for this machine's user only (mode 0600, written atomically)."""
    path = credentials_path(root)
    write_json_atomic(path, {"token": token}, mode=0o600)
    return path


def read_local_token(root: Path) -> str | None:
    """The token in the workspace's credentials file; None when there is no file."""
    path = credentials_path(root)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    _refuse_shared(path, mode)
    return _token_in(path)


def token_from_environment() -> str | None:
    return os.environ.get(TOKEN_ENV, "").strip() or None


def _refuse_shared(path: Path, mode: int) -> None:
    # As ssh does with private keys: a secret others can read may already be someone else's.
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuthError(
            f"credentials file {path} is accessible by other users (mode"
            f" {stat.S_IMODE(mode):04o}): run `chmod 600 {path}`, and revoke its token if"
            " others may have read it",
            path=str(path),
        )


def _token_in(path: Path) -> str:
    try:
        token = json.loads(path.read_text())["token"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"credentials file {path} is damaged ({type(error).__name__}): delete it, and pass"
            f" a token in ${TOKEN_ENV} (create one with `modelyard token create NAME`)",
            path=str(path),
        ) from error
    if not isinstance(token, str) or not token:
        raise InvalidValue(
            f"credentials file {path} holds no token: delete it, and pass a token in"
            f" ${TOKEN_ENV} (create one with `modelyard token create NAME`)",
            path=str(path),
        )
    return token
