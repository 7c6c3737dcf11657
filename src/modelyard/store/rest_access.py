"""Users and API tokens of a workspace behind a server, through its `/users` and `/tokens`
routes: what `modelyard token …` and `modelyard user …` do when the workspace is a URL.

Unlike the server's own `AuthStore`, which stores hashes, this side gets a new token's secret
once, in the answer that created it.
"""

from __future__ import annotations

from modelyard.entities import ApiToken, Role, User
from modelyard.store.rest_client import RestClient, segment


class RestAccess:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def create_user(self, name: str, role: Role) -> User:
        body = {"name": name, "role": role.value}
        return User.from_dict(self.client.call("POST", "/users", json=body))

    def list_users(self) -> list[User]:
        return [User.from_dict(item) for item in self.client.call("GET", "/users")]

    def create_token(self, name: str, user: str | None) -> tuple[ApiToken, str]:
        answer = self.client.call("POST", "/tokens", json={"name": name, "user": user})
        return ApiToken.from_dict(answer), str(answer["token"])

    def list_tokens(self) -> list[ApiToken]:
        return [ApiToken.from_dict(item) for item in self.client.call("GET", "/tokens")]

    def revoke_token(self, token_id: str) -> ApiToken:
        return ApiToken.from_dict(self.client.call("DELETE", f"/tokens/{segment(token_id)}"))
