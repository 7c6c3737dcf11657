"""`modelyard component create|list|show|archive|restore`: registered command components
(Azure ML's `az ml component`), a thin shell over `services.components`.

A version is named as `NAME` or `NAME@latest` (the latest not archived), `NAME:VERSION`, or as a
pipeline step names it, `azureml:NAME:VERSION`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import (
    OutputFormat,
    OutputOption,
    console,
    emit_json,
    emit_mapping,
    emit_table,
    format_time,
)
from modelyard.entities.components import ComponentVersion
from modelyard.services import components

app = typer.Typer(
    help="Components: a step's command, ports, environment and code, versioned by content.",
    no_args_is_help=True,
)

ReferenceArgument = typer.Argument(
    ...,
    metavar="REF",
    help="NAME or NAME@latest (the latest), NAME:VERSION or azureml:NAME:VERSION",
)
COMPONENT_COLUMNS = ["name", "latest", "versions", "updated"]
VERSION_COLUMNS = ["version", "display name", "inputs", "outputs", "content", "created", "by"]


@app.command()
def create(
    file: Path = typer.Option(..., "--file", "-f", help="the component YAML (type: command)"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Register a version: its code folder is snapshotted into the workspace. The same
    content registered again makes no new version."""
    with opened_workspace(workspace) as ws:
        result = components.create_component(ws, file)
    version = result.version
    if output is OutputFormat.JSON:
        emit_json({**version.to_dict(), "created": result.created})
    elif result.created:
        console.print(f"Registered {version.reference}.")
    else:
        console.print(f"Unchanged: {version.reference} already holds this content; no new version.")


@app.command("list")
def list_(
    name: str | None = typer.Argument(None, help="list this component's versions instead"),
    include_archived: bool = typer.Option(False, "--include-archived", help="archived too"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List components, or one component's versions (newest first)."""
    with opened_workspace(workspace) as ws:
        if name is not None:
            _print_versions(name, components.list_versions(ws, name, include_archived), output)
            return
        found = components.list_components(ws)
    if output is OutputFormat.JSON:
        emit_json([component.to_dict() for component in found])
        return
    rows = [[c.name, c.latest_version, c.version_count, format_time(c.updated_at)] for c in found]
    emit_table("Components", COMPONENT_COLUMNS, rows)


def _print_versions(name: str, versions: list[ComponentVersion], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json([version.to_dict() for version in versions])
        return
    rows = [
        [
            f"{v.version} (archived)" if v.archived else v.version,
            v.spec.display_name or "",
            ", ".join(v.spec.inputs),
            ", ".join(v.spec.outputs),
            v.content_hash[:12],
            format_time(v.created_at),
            v.created_by,
        ]
        for v in versions
    ]
    emit_table(f"Component {name}", VERSION_COLUMNS, rows)


@app.command()
def show(
    reference: str = ReferenceArgument,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a version: its command, ports, environment and code hash."""
    with opened_workspace(workspace) as ws:
        version = components.get_component_version(ws, reference)
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    emit_mapping(f"Component {version.reference}", _summary(version), sort=False)


def _summary(version: ComponentVersion) -> dict[str, Any]:
    spec = version.spec
    summary = {
        "display name": spec.display_name,
        "description": spec.description,
        "command": " ".join(spec.command),
        "inputs": ", ".join(f"{n} ({p.type.value})" for n, p in spec.inputs.items()),
        "outputs": ", ".join(f"{n} ({t.value})" for n, t in spec.outputs.items()),
        "environment": (spec.environment or {}).get("name") or "the step's interpreter",
        "code hash": version.code_hash,
        "content hash": version.content_hash,
        "archived": "yes" if version.archived else None,
        "created": format_time(version.created_at),
        "created by": version.created_by,
    }
    return {key: value for key, value in summary.items() if value not in (None, "")}


@app.command()
def archive(
    reference: str = typer.Argument(..., metavar="NAME:VERSION"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Hide a version from lists and from @latest; a pipeline naming NAME:VERSION still runs
    it."""
    _set_archived(reference, True, workspace, output)


@app.command()
def restore(
    reference: str = typer.Argument(..., metavar="NAME:VERSION"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Bring an archived version back into lists and @latest."""
    _set_archived(reference, False, workspace, output)


def _set_archived(
    reference: str, archived: bool, workspace: str | None, output: OutputFormat
) -> None:
    with opened_workspace(workspace) as ws:
        version = components.set_archived(ws, reference, archived)
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    console.print(f"{'Archived' if archived else 'Restored'} {version.reference}.")
