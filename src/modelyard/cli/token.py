"""`modelyard token create|list|revoke`: API tokens for `modelyard server`, managed locally."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit, errors
from modelyard.entities import validate_token_name
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(help="API tokens for the server: create, list and revoke.", no_args_is_help=True)

COLUMNS = ["id", "name", "user", "created_at", "last_used_at", "revoked_at"]


@app.command()
def create(
    name: str,
    user: str | None = typer.Option(
        None,
        "--user",
        "-u",
        help="the user the token acts as (default: admin here; yourself on a server)",
    ),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Create a token and print it once: only its hash is kept, it cannot be shown again.

    The token alone goes to stdout, so `TOKEN=$(modelyard token create ci)` captures it.
    """
    validate_token_name(name)  # First: a refused name must leave no admin behind either.
    with opened_workspace(workspace) as ws:
        if ws.server_url is None and user in (None, auth.ADMIN_NAME):
            _ensure_admin(ws)
        token, plaintext = auth.create_token(ws, name, user)
    errors.print(
        f"Created token {token.name!r} ({token.id}) for user {token.user_name!r}."
        " [bold]Copy it now: it will not be shown again.[/]"
    )
    typer.echo(plaintext)


def _ensure_admin(ws: OpenWorkspace) -> None:
    """A workspace's first token comes with its admin, as `modelyard server` would create it."""
    if auth.ensure_admin(ws) is not None:
        errors.print(
            f"Created user {auth.ADMIN_NAME!r}; its own token is in"
            f" {auth.credentials_path(ws.root)} (mode 0600)."
        )


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """List tokens, revoked ones included (never their secrets)."""
    with opened_workspace(workspace) as ws:
        rows = [token.to_dict() for token in auth.list_tokens(ws)]
    emit(output, rows, "API tokens", COLUMNS)


@app.command()
def revoke(token_id: str, workspace: str | None = WorkspaceOption) -> None:
    """Revoke a token for good: the server refuses it from its next request on."""
    with opened_workspace(workspace) as ws:
        token = auth.revoke_token(ws, token_id)
    console.print(f"Revoked token {token.name!r} ({token.id}) of user {token.user_name!r}.")
