"""`modelyard pipeline published list | show NAME[:VERSION] | set-default | enable | disable`:
published pipelines' versions (services/pipelines/published.py). Publishing and invoking are
`modelyard pipeline publish` and `modelyard pipeline invoke`."""

from __future__ import annotations

from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, emit, emit_json, emit_table
from modelyard.entities.published_pipelines import (
    PublishedPipelineVersion,
    parse_published_reference,
)
from modelyard.services.pipelines import published

app = typer.Typer(
    help="Published pipelines: their versions, default version, enabled or not.",
    no_args_is_help=True,
)

LIST_COLUMNS = ["name", "latest_version", "default_version", "description", "created_by"]
VERSION_COLUMNS = ["version", "enabled", "parameters", "source_run", "created_at", "created_by"]
PARAMETER_COLUMNS = ["name", "type", "default"]


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    with opened_workspace(workspace) as ws:
        found = published.list_published(ws)
    emit(output, [p.to_dict() for p in found], "published pipelines", LIST_COLUMNS)


@app.command()
def show(
    reference: str = typer.Argument(..., help="NAME (its versions) or NAME:VERSION"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """A published pipeline's versions, or one version's parameters."""
    name, version = parse_published_reference(reference)
    with opened_workspace(workspace) as ws:
        if version is not None:
            _show_version(published.get_published_version(ws, name, version), output)
            return
        details = published.published_details(ws, name)
    if output is OutputFormat.JSON:
        emit_json(details.to_dict())
        return
    shown = details.pipeline.to_dict()
    emit_table(f"published pipeline {name}", ["key", "value"], list(shown.items()))
    rows = [_version_row(v) for v in details.versions]
    emit_table("versions", VERSION_COLUMNS, [[r[c] for c in VERSION_COLUMNS] for r in rows])


def _version_row(version: PublishedPipelineVersion) -> dict[str, Any]:
    names = ", ".join(p.name for p in version.parameters)
    return {**version.to_dict(), "parameters": names}


def _show_version(version: PublishedPipelineVersion, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    shown = {k: v for k, v in version.to_dict().items() if k != "parameters"}
    emit_table(f"published pipeline {version.reference}", ["key", "value"], list(shown.items()))
    rows = [[p.name, p.type.value, p.default] for p in version.parameters]
    emit_table("parameters", PARAMETER_COLUMNS, rows)


@app.command("set-default")
def set_default(
    name: str,
    version: int,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Invocations without --version run VERSION from now on (not the latest)."""
    with opened_workspace(workspace) as ws:
        found = published.set_default_version(ws, name, version)
    emit(output, found.to_dict(), f"published pipeline {name}", LIST_COLUMNS)


@app.command()
def enable(
    name: str,
    version: int,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    _set_enabled(name, version, True, workspace, output)


@app.command()
def disable(
    name: str,
    version: int,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """VERSION refuses to run until enabled again; its runs so far stay."""
    _set_enabled(name, version, False, workspace, output)


def _set_enabled(
    name: str, version: int, enabled: bool, workspace: str | None, output: OutputFormat
) -> None:
    with opened_workspace(workspace) as ws:
        found = published.set_version_enabled(ws, name, version, enabled)
    emit(output, _version_row(found), f"published pipeline {found.reference}", VERSION_COLUMNS)
