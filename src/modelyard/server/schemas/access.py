"""Users and API tokens: the request bodies of `routes/access.py` and their JSON
(`entities/auth.py`). A token's secret is answered once, when it is created."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from modelyard.entities import Role, limits
from modelyard.server.schemas.common import ResponseModel, Timestamp


class UserIn(BaseModel):
    name: Annotated[str, Field(max_length=limits.USER_NAME_MAX)]
    role: Role = Role.CONTRIBUTOR


class TokenIn(BaseModel):
    name: Annotated[str, Field(max_length=limits.TOKEN_NAME_MAX)]
    user: Annotated[str, Field(max_length=limits.USER_NAME_MAX)] | None = None  # default: caller


class User(ResponseModel):
    id: str
    name: str
    role: Role
    created_at: Timestamp


class Me(User):
    """Who a token speaks for; `run_id` is set for a job's token, which acts on that run only."""

    run_id: str | None


class ApiToken(ResponseModel):
    id: str
    user: str
    name: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    run_id: str | None = Field(description="set for a job's token, scoped to its run")


class NewApiToken(ApiToken):
    token: str = Field(description="the secret: answered this once, stored nowhere")
