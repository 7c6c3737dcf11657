"""Who may use a workspace: users, their roles and their API tokens.

A token's secret is never part of an entity: stores keep only its SHA-256, and the plaintext
exists once, when the token is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelyard.errors import InvalidValue


class Role(StrEnum):
    """Azure's built-in roles, each including the one before it."""

    READER = "reader"  # reads everything: experiments, runs, metrics, logs, artifacts
    CONTRIBUTOR = "contributor"  # creates and changes their own runs and jobs, shared experiments
    ADMIN = "admin"  # users, tokens, and changes to or deletes of anyone's work

    def includes(self, required: Role) -> bool:
        """Whether this role may do what `required` may."""
        order = list(Role)
        return order.index(self) >= order.index(required)

    @classmethod
    def parse(cls, value: str) -> Role:
        """The role named `value`; InvalidValue (not ValueError) for any other word."""
        try:
            return cls(value)
        except ValueError:
            raise InvalidValue(
                f"unknown role {value!r}: use one of {', '.join(role.value for role in cls)}",
                role=value,
            ) from None


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        return cls(
            id=data["id"],
            name=data["name"],
            role=Role.parse(data["role"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_name: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # A job's token: it acts for its user on this one run only, and only while the run runs.
    run_id: str | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user_name,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiToken:
        return cls(
            id=data["id"],
            user_name=data["user"],
            name=data["name"],
            created_at=datetime.fromisoformat(data["created_at"]),
            last_used_at=_from_iso(data.get("last_used_at")),
            revoked_at=_from_iso(data.get("revoked_at")),
            run_id=data.get("run_id"),
        )


@dataclass(frozen=True)
class Caller:
    """Who sent a request: always read from its token, never from what the request says."""

    user: User
    run_id: str | None = None  # set when the token is a job's, scoped to that run

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> Role:
        return self.user.role


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
