"""`modelyard workspace create|show|list|delete`."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit
from modelyard.services import remote
from modelyard.services import workspaces as service

app = typer.Typer(help="Create and manage workspaces.", no_args_is_help=True)

COLUMNS = ["name", "location", "resource_group", "store_uri", "path"]
CONNECTED_COLUMNS = ["name", "location", "resource_group", "server_url"]


@app.command()
def create(
    name: str = typer.Argument(..., help="3–33 letters, digits or hyphens"),
    location: str = typer.Option("local", help="where it lives, for your own bookkeeping"),
    resource_group: str = typer.Option("default", "--resource-group", help="a grouping label"),
    path: Path | None = typer.Option(None, help="folder (default: ~/.modelyard/workspaces/NAME)"),
    store_uri: str | None = typer.Option(
        None, "--store-uri", help="metadata store: sqlite:///… (default) or postgresql://…"
    ),
    no_project_config: bool = typer.Option(
        False, "--no-project-config", help="don't write .modelyard/config.json here"
    ),
    output: OutputFormat = OutputOption,
) -> None:
    """Create a workspace and point this folder at it (.modelyard/config.json)."""
    project_dir = None if no_project_config else Path.cwd()
    ws = service.create_workspace(
        name,
        path=path,
        location=location,
        resource_group=resource_group,
        store_uri=store_uri,
        project_dir=project_dir,
    )
    ws.close()
    emit(output, ws.workspace.to_dict(), "Workspace created", COLUMNS)


@app.command()
def connect(
    server_url: str = typer.Argument(..., help="the address `modelyard server` prints"),
    token: str | None = typer.Option(
        None, "--token", help="API token (saved for this server, mode 0600); or $MODELYARD_TOKEN"
    ),
    no_project_config: bool = typer.Option(
        False, "--no-project-config", help="don't write .modelyard/config.json here"
    ),
    output: OutputFormat = OutputOption,
) -> None:
    """Use the workspace of a `modelyard server` from this folder (.modelyard/config.json)."""
    ws = remote.open_remote_workspace(server_url, token)
    try:
        if token is not None:
            remote.save_token(server_url, token)
        if not no_project_config:
            remote.write_project_config(Path.cwd(), ws)
    finally:
        ws.close()
    emit(output, ws.workspace.to_dict(), "Connected to workspace", CONNECTED_COLUMNS)


@app.command()
def show(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """Show the current (or named) workspace."""
    with opened_workspace(workspace) as ws:
        emit(output, ws.workspace.to_dict(), "Workspace", COLUMNS)


@app.command("list")
def list_(output: OutputFormat = OutputOption) -> None:
    """List the workspaces known on this machine."""
    emit(output, [w.to_dict() for w in service.list_workspaces()], "Workspaces", COLUMNS)


@app.command()
def delete(
    name: str = typer.Argument(..., help="workspace name or folder"),
    yes: bool = typer.Option(False, "--yes", "-y", help="don't ask for confirmation"),
) -> None:
    """Delete a workspace folder: its database, artifacts and caches."""
    found = service.resolve_workspace_root(name)  # a misspelt name fails before any question
    if not yes:
        typer.confirm(f"Delete workspace {name!r} ({found}) and everything in it?", abort=True)
    root = service.delete_workspace(name)
    console.print(f"Deleted workspace {name!r} ({root}).")
