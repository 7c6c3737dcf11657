"""`modelyard data create|list|show|download|archive|restore`: data assets (Azure ML's
`az ml data`), a thin shell over `services.data`.

A version is named as `NAME` (the latest not archived), `NAME:VERSION`, or as a job names it,
`data:NAME@latest`, `data:NAME:VERSION`, `azureml:NAME:VERSION`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.model import parse_pairs
from modelyard.cli.output import (
    OutputFormat,
    OutputOption,
    console,
    emit_json,
    emit_mapping,
    emit_table,
    format_time,
)
from modelyard.entities.data import DataAsset, DataType, DataVersion, DataVersionRequest
from modelyard.services import data

app = typer.Typer(
    help="Data assets: immutable versions of a folder or file, named by their content.",
    no_args_is_help=True,
)

ReferenceArgument = typer.Argument(
    ...,
    metavar="REF",
    help="NAME (the latest), NAME:VERSION, data:NAME@latest or data:NAME:VERSION",
)
ASSET_COLUMNS = ["name", "latest", "type", "versions", "updated", "description"]
VERSION_COLUMNS = ["version", "type", "files", "bytes", "parent", "content", "created", "by"]


@app.command()
def create(
    name: str = typer.Argument(..., help="the asset's name"),
    path: Path = typer.Option(..., "--path", "-p", help="the folder or file to version"),
    kind: str = typer.Option(
        "", "--type", "-t", help="uri_folder, uri_file or table (default: from the path)"
    ),
    description: str | None = typer.Option(None, "--description", "-d"),
    tag: list[str] | None = typer.Option(None, "--tag", help="KEY=VALUE, repeatable"),
    verify: bool = typer.Option(
        False, "--verify", help="read every file again instead of trusting the hash cache"
    ),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Version a folder or file: its files are copied into the workspace and named by their
    content. Content equal to the latest version's makes no new version."""
    chosen = DataType.parse(kind) if kind else _type_of(path)
    request = DataVersionRequest(name, chosen, description, parse_pairs(tag, "--tag"))
    with opened_workspace(workspace) as ws:
        result = data.create_data(ws, path, request, verify=verify)
    version = result.version
    if output is OutputFormat.JSON:
        emit_json({**version.to_dict(), "created": result.created})
        return
    files = f"{version.file_count} file{'s' if version.file_count != 1 else ''}"
    read = f"{result.hashed} read, {result.cached} unchanged"
    if result.created:
        parent = f", after version {version.parent_version}" if version.parent_version else ""
        console.print(f"Created {version.reference} ({files}, {read}{parent}).")
    else:
        console.print(
            f"Unchanged: {version.reference} already holds this content ({files}, {read});"
            " no new version."
        )


def _type_of(path: Path) -> DataType:
    return DataType.URI_FOLDER if path.is_dir() or not path.exists() else DataType.URI_FILE


@app.command("list")
def list_(
    name: str | None = typer.Argument(None, help="list this asset's versions instead"),
    include_archived: bool = typer.Option(False, "--include-archived", help="archived too"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List data assets, or one asset's versions (newest first)."""
    with opened_workspace(workspace) as ws:
        if name is not None:
            _print_versions(name, data.list_versions(ws, name, include_archived), output)
            return
        found = data.list_assets(ws, include_archived)
    if output is OutputFormat.JSON:
        emit_json([asset.to_dict() for asset in found])
        return
    emit_table("Data assets", ASSET_COLUMNS, [_asset_row(asset) for asset in found])


def _asset_row(asset: DataAsset) -> list[Any]:
    name = f"{asset.name} (archived)" if asset.archived else asset.name
    kind = "" if asset.latest_type is None else asset.latest_type.value
    return [
        name,
        asset.latest_version,
        kind,
        asset.version_count,
        format_time(asset.updated_at),
        asset.latest_description or "",
    ]


def _print_versions(name: str, versions: list[DataVersion], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json([version.to_dict() for version in versions])
        return
    rows = [
        [
            f"{v.version} (archived)" if v.archived else v.version,
            v.type.value,
            v.file_count,
            v.total_bytes,
            v.parent_version or "",
            v.content_hash[:12],
            format_time(v.created_at),
            v.created_by,
        ]
        for v in versions
    ]
    emit_table(f"Data asset {name}", VERSION_COLUMNS, rows)


@app.command()
def show(
    reference: str = ReferenceArgument,
    files: bool = typer.Option(False, "--files", help="list the version's files too"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a version and its lineage: the runs that read it, the models registered from
    them, and the endpoints serving those models."""
    with opened_workspace(workspace) as ws:
        found = data.lineage(ws, reference)
        manifest = data.read_manifest(ws, found.version) if files else None
    if output is OutputFormat.JSON:
        shown = found.to_dict()
        if manifest is not None:
            shown["files"] = [entry.to_dict() for entry in manifest.entries]
        emit_json(shown)
        return
    version = found.version
    emit_mapping(f"Data {version.reference}", _summary(version), sort=False)
    if manifest is not None:
        rows = [[e.relpath, e.size, e.sha256] for e in manifest.entries]
        emit_table("Files", ["path", "size", "sha256"], rows, whole={"path"})
    if found.runs:
        rows = [[r["run_id"], r["experiment"], r["status"], r["input_name"]] for r in found.runs]
        emit_table("Read by runs", ["run", "experiment", "status", "input"], rows)
    if found.models:
        rows = [[f"{m['name']}:{m['version']}", m["run_id"]] for m in found.models]
        emit_table("Models registered from those runs", ["model", "run"], rows)
    if found.deployments:
        rows = [[d["endpoint"], d["deployment"], d["model"], d["state"]] for d in found.deployments]
        emit_table("Served by", ["endpoint", "deployment", "model", "state"], rows)


def _summary(version: DataVersion) -> dict[str, Any]:
    summary = {
        "type": version.type.value,
        "description": version.description,
        "files": version.file_count,
        "bytes": version.total_bytes,
        "content hash": version.content_hash,
        "parent version": version.parent_version,
        "archived": "yes" if version.archived else None,
        "tags": ", ".join(f"{k}={v}" for k, v in version.tags.items()),
        "created": format_time(version.created_at),
        "created by": version.created_by,
    }
    return {key: value for key, value in summary.items() if value not in (None, "")}


@app.command()
def download(
    reference: str = ReferenceArgument,
    output_dir: Path = typer.Option(
        ..., "--output", "-o", help="a new (or empty) folder to write the files into"
    ),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Write a version's files into a new folder, all or nothing."""
    with opened_workspace(workspace) as ws:
        version = data.download(ws, reference, output_dir)
    console.print(f"Downloaded {version.reference} ({version.file_count} files) to {output_dir}.")


@app.command()
def archive(
    reference: str = typer.Argument(..., metavar="REF", help="NAME (the asset) or NAME:VERSION"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Hide an asset (NAME) or a version (NAME:VERSION) from lists and from @latest; runs
    that read it keep naming it, and NAME:VERSION still reads it."""
    _set_archived(reference, True, workspace, output)


@app.command()
def restore(
    reference: str = typer.Argument(..., metavar="REF", help="NAME (the asset) or NAME:VERSION"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Undo `data archive`."""
    _set_archived(reference, False, workspace, output)


def _set_archived(reference: str, archived: bool, workspace: str | None, output: Any) -> None:
    with opened_workspace(workspace) as ws:
        changed = data.set_archived(ws, reference, archived)
    if output is OutputFormat.JSON:
        emit_json(changed.to_dict())
        return
    what = changed.reference if isinstance(changed, DataVersion) else f"data asset {changed.name}"
    console.print(f"{'Archived' if archived else 'Restored'} {what}.")
