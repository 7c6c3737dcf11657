"""`modelyard experiment list|show|delete`."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit
from modelyard.services import experiments as service

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)

COLUMNS = ["name", "run_count", "created_at", "id"]


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """List experiments."""
    with opened_workspace(workspace) as ws:
        rows = [e.to_dict() for e in service.list_experiments(ws)]
    emit(output, rows, "Experiments", COLUMNS)


@app.command()
def show(
    name: str, workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption
) -> None:
    """Show one experiment."""
    with opened_workspace(workspace) as ws:
        emit(output, service.get_experiment(ws, name).to_dict(), "Experiment", COLUMNS)


@app.command()
def delete(
    name: str,
    workspace: str | None = WorkspaceOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="don't ask for confirmation"),
) -> None:
    """Delete an experiment with its runs and artifacts; the name can be used again."""
    with opened_workspace(workspace) as ws:
        found = service.get_experiment(ws, name)  # a misspelt name fails before any question
        if not yes:
            typer.confirm(
                f"Delete experiment {name!r} with its {found.run_count} run(s)?", abort=True
            )
        deleted = service.delete_experiment(ws, name)
    console.print(f"Deleted experiment {name!r} and {len(deleted)} run(s).")
