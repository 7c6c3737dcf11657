"""`modelyard pipeline draft import|list|show|export|delete`: the designer's pipeline drafts
(services/pipelines/drafts.py). A pipeline file imported and exported again is the same bytes,
so a CLI-made pipeline goes into the designer and back unchanged."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit, emit_json, emit_table
from modelyard.services.pipelines import drafts
from modelyard.services.pipelines.drafts import DraftDetails

app = typer.Typer(
    help="Pipeline drafts: pipelines being drawn in the portal's designer.",
    no_args_is_help=True,
)

LIST_COLUMNS = ["name", "revision", "updated_at", "updated_by", "created_by"]
SHOWN_FIELDS = ["name", "revision", "created_at", "created_by", "updated_at", "updated_by"]
NameArgument = typer.Argument(..., help="the draft's name")


@app.command("import")
def import_(
    file: Path = typer.Option(..., "--file", "-f", help="a pipeline YAML"),
    name: str | None = typer.Option(
        None, "--name", help="the draft's name (default: its display_name, else the file's stem)"
    ),
    replace: bool = typer.Option(
        False, "--replace", help="save over a draft of that name, as its next revision"
    ),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Save a pipeline file, its text as it is, as a new draft for the designer."""
    with opened_workspace(workspace) as ws:
        details = drafts.import_draft(ws, file, name, replace=replace)
    _show(details, output)


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    with opened_workspace(workspace) as ws:
        found = drafts.list_drafts(ws)
    emit(output, [draft.to_dict() for draft in found], "pipeline drafts", LIST_COLUMNS)


@app.command()
def show(
    name: str = NameArgument,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """A draft's revision, whether it would run (its problem if not) and its YAML."""
    with opened_workspace(workspace) as ws:
        details = drafts.get_draft(ws, name)
    _show(details, output, with_definition=True)


@app.command()
def export(
    name: str = NameArgument,
    output_file: Path = typer.Option(..., "--output-file", "-o", help="where to write it"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Write a draft's YAML to a file, exactly as saved (submit it with `modelyard job create
    -f FILE`)."""
    with opened_workspace(workspace) as ws:
        draft = drafts.export_draft(ws, name, output_file)
    console.print(
        f"pipeline draft {draft.name} (revision {draft.revision}) written to {output_file}"
    )


@app.command()
def delete(name: str = NameArgument, workspace: str | None = WorkspaceOption) -> None:
    with opened_workspace(workspace) as ws:
        drafts.delete_draft(ws, name)
    console.print(f"pipeline draft {name} deleted")


def _show(details: DraftDetails, output: OutputFormat, with_definition: bool = False) -> None:
    if output is OutputFormat.JSON:
        emit_json(details.to_dict())
        return
    shown = details.draft.summary.to_dict()
    rows = [[key, shown[key]] for key in SHOWN_FIELDS]
    problem = details.problem
    rows.append(["problem", "none: it would run" if problem is None else problem.message])
    emit_table(f"pipeline draft {details.draft.name}", ["key", "value"], rows)
    if with_definition:
        console.print(details.draft.definition, markup=False, highlight=False, end="")
