"""Users and API tokens over the API: who may use this server, and their credentials.

Admins manage users and anyone's tokens; every user manages their own tokens (Azure's personal
access tokens): create (the secret is answered once), list, revoke. `GET /users/me` says who a
token speaks for. The rules are `services/authorization.py`'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.entities import Caller, Role
from modelyard.server.deps import Admin, Reader, workspace_of
from modelyard.server.schemas import access as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.services import auth, authorization

router = APIRouter(tags=["access"])


@router.get("/users/me", response_model=schemas.Me)
def who_am_i(caller: Caller = Reader) -> dict[str, Any]:
    return {**caller.user.to_dict(), "run_id": caller.run_id}


@router.get("/users", dependencies=[Admin], response_model=list[schemas.User])
def list_users(request: Request) -> list[dict[str, Any]]:
    return [user.to_dict() for user in auth.list_users(workspace_of(request))]


@router.post(
    "/users", dependencies=[Admin], response_model=schemas.User, responses=error_responses(409)
)
def create_user(body: schemas.UserIn, request: Request) -> dict[str, Any]:
    return auth.create_user(workspace_of(request), body.name, body.role).to_dict()


@router.get("/tokens", response_model=list[schemas.ApiToken])
def list_tokens(request: Request, caller: Caller = Reader) -> list[dict[str, Any]]:
    """The caller's own tokens; an admin's answer holds everyone's."""
    tokens = auth.list_tokens(workspace_of(request))
    everyone = caller.role is Role.ADMIN
    return [token.to_dict() for token in tokens if everyone or token.user_name == caller.name]


@router.post("/tokens", response_model=schemas.NewApiToken, responses=error_responses(404))
def create_token(
    body: schemas.TokenIn, request: Request, caller: Caller = Reader
) -> dict[str, Any]:
    """A new token; its secret is in this answer and nowhere else, ever."""
    owner = body.user or caller.name
    authorization.check_may_manage_tokens_of(caller, owner)
    token, secret = auth.create_token(workspace_of(request), body.name, owner)
    return {**token.to_dict(), "token": secret}


@router.delete("/tokens/{token_id}", response_model=schemas.ApiToken)
def revoke_token(token_id: str, request: Request, caller: Caller = Reader) -> dict[str, Any]:
    ws = workspace_of(request)
    authorization.check_may_manage_tokens_of(caller, auth.token_owner(ws, token_id))
    return auth.revoke_token(ws, token_id).to_dict()
