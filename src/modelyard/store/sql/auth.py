"""Users and API tokens in the SQL store (the `AuthStore` half of `SqlStore`).

Only SHA-256 hashes of token secrets reach the database; checking a presented token is the
service's job (`modelyard.services.auth`), so this module never sees a secret.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities import ApiToken, Role, User, validate_token_name, validate_user_name
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.store.base import StoredToken
from modelyard.store.sql.models import ApiTokenRow, UserRow, new_id, utcnow

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SqlAuthStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # Users -----------------------------------------------------------------------------------

    def create_user(self, name: str, role: Role) -> User:
        validate_user_name(name)
        role = Role.parse(role)
        try:
            with self._session(write=True) as session:
                row = UserRow(id=new_id(), name=name, role=role.value, created_at=utcnow())
                session.add(row)
                session.flush()
                return row.to_entity()
        except IntegrityError as error:
            raise AlreadyExists(
                f"user {name!r} already exists: choose another name", user=name
            ) from error

    def get_user(self, name: str) -> User:
        with self._session() as session:
            return _user_row(session, name).to_entity()

    def list_users(self) -> list[User]:
        with self._session() as session:
            return [
                row.to_entity() for row in session.scalars(select(UserRow).order_by(UserRow.name))
            ]

    def count_users(self) -> int:
        with self._session() as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)

    # Tokens ----------------------------------------------------------------------------------

    def create_token(
        self, user_name: str, name: str, secret_hash: str, run_id: str | None = None
    ) -> ApiToken:
        validate_token_name(name)
        _check_secret_hash(secret_hash)
        with self._session(write=True) as session:
            user = _user_row(session, user_name)
            row = ApiTokenRow(
                id=new_id(),
                user_id=user.id,
                name=name,
                secret_hash=secret_hash,
                created_at=utcnow(),
                run_id=run_id,
            )
            session.add(row)
            session.flush()
            return row.to_entity(user.name)

    def get_stored_token(self, token_id: str) -> StoredToken:
        """The token, its user and its secret's hash, in one query: for authenticating a
        request (every API call), nothing else."""
        query = (
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.id == token_id)
        )
        with self._session() as session:
            found = session.execute(query).first()
            if found is None:
                raise _token_not_found(token_id)
            token, user = found
            return StoredToken(token.to_entity(user.name), user.to_entity(), token.secret_hash)

    def list_tokens(self) -> list[ApiToken]:
        query = (
            select(ApiTokenRow, UserRow.name)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        )
        with self._session() as session:
            return [row.to_entity(user_name) for row, user_name in session.execute(query).all()]

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke for good; revoking again keeps the first revocation time."""
        with self._session(write=True) as session:
            row, user_name = _token_row(session, token_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            session.flush()
            return row.to_entity(user_name)

    def touch_token(self, token_id: str) -> None:
        with self._session(write=True) as session:
            session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=utcnow())
            )


def _user_row(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFound(f"user {name!r} not found", user=name)
    return row


def _token_row(session: Session, token_id: str) -> tuple[ApiTokenRow, str]:
    found = session.execute(
        select(ApiTokenRow, UserRow.name)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.id == token_id)
    ).first()
    if found is None:
        raise _token_not_found(token_id)
    return found[0], found[1]


def _token_not_found(token_id: str) -> NotFound:
    return NotFound(
        f"API token {token_id!r} not found: list tokens with `modelyard token list`",
        token_id=token_id,
    )


def _check_secret_hash(secret_hash: str) -> None:
    # A guard against a caller handing over the plaintext secret by mistake: it must never be
    # written to the database.
    if not _SHA256_HEX.fullmatch(secret_hash):
        raise InvalidValue(
            "an API token's secret must be stored as its SHA-256 hex digest (64 lowercase hex"
            " characters), never as plaintext",
        )
