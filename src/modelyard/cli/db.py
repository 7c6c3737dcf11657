"""`modelyard db upgrade`: bring a workspace database to this version's schema."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption
from modelyard.cli.output import console
from modelyard.services.workspaces import resolve_workspace_root, upgrade_schema

app = typer.Typer(help="Workspace database schema.", no_args_is_help=True)


@app.command()
def upgrade(workspace: str | None = WorkspaceOption) -> None:
    """Apply the migrations shipped with this Modelyard (safe to run twice)."""
    before, after = upgrade_schema(resolve_workspace_root(workspace))
    if before == after:
        console.print(f"Schema already at revision {after}.")
    else:
        console.print(f"Schema upgraded from {before or 'empty'} to {after}.")
