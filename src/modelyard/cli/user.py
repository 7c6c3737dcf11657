"""`modelyard user create|list`: who may use a workspace's server, and with which role."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit
from modelyard.entities import Role
from modelyard.services import auth

app = typer.Typer(help="Users of the server and their roles.", no_args_is_help=True)

COLUMNS = ["name", "role", "created_at"]
ROLES = ", ".join(role.value for role in Role)


@app.command()
def create(
    name: str,
    role: str = typer.Option(
        Role.CONTRIBUTOR.value,
        "--role",
        "-r",
        help=f"one of {ROLES}: reader reads; contributor also runs jobs and changes their own"
        " runs; admin may do anything",
    ),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Create a user; then give them a token with `modelyard token create NAME --user USER`."""
    with opened_workspace(workspace) as ws:
        user = auth.create_user(ws, name, role)
    console.print(
        f"Created user {user.name!r} ({user.role.value}). Give them a token:"
        f" modelyard token create laptop --user {user.name}"
    )


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """List users and their roles."""
    with opened_workspace(workspace) as ws:
        rows = [user.to_dict() for user in auth.list_users(ws)]
    emit(output, rows, "Users", COLUMNS)
