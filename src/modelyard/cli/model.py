"""`modelyard model register|list|show|download|delete`, `model alias set|delete` and
`model tag set|delete`: the model registry, a thin shell over `services.models`.

A model is named as `NAME` (its latest version), `NAME:VERSION`, `NAME@ALIAS` or
`models:/NAME/VERSION`, here as anywhere else a model is named.
"""

from __future__ import annotations

import json
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
from modelyard.entities.registry import (
    ModelVersion,
    ModelVersionRequest,
    parse_model_reference,
)
from modelyard.errors import InvalidValue
from modelyard.services import models, runs

app = typer.Typer(
    help="The model registry: versions, files, tags, properties and aliases.",
    no_args_is_help=True,
)
alias_app = typer.Typer(help="Aliases: movable pointers to a version (NAME@ALIAS).")
tag_app = typer.Typer(help="Tags of a version (they may change; properties may not).")
app.add_typer(alias_app, name="alias", no_args_is_help=True)
app.add_typer(tag_app, name="tag", no_args_is_help=True)

VERSION_COLUMNS = ["version", "framework", "aliases", "files", "size", "run", "created", "by"]
MODEL_COLUMNS = ["name", "latest", "versions", "aliases", "updated"]

ReferenceArgument = typer.Argument(
    ..., metavar="REF", help="NAME (the latest), NAME:VERSION, NAME@ALIAS or models:/NAME/VERSION"
)


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`k=v` options as a mapping; one without `=` is a one-line error naming it."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise InvalidValue(
                f"{option} {value!r} is not KEY=VALUE: write it like {option} stage=prod",
                value=value,
            )
        pairs[key] = text
    return pairs


@app.command()
def register(
    path: Path | None = typer.Argument(
        None, help="a file or folder here; with --run, a path in the run's artifacts"
    ),
    name: str = typer.Option(..., "--name", "-n", help="the model's name"),
    tag: list[str] | None = typer.Option(None, "--tag", help="KEY=VALUE, repeatable"),
    prop: list[str] | None = typer.Option(None, "--property", help="KEY=VALUE, repeatable"),
    description: str | None = typer.Option(None, "--description"),
    framework: str | None = typer.Option(
        None, "--framework", help="what the files are (default: recognised, else none)"
    ),
    run: str | None = typer.Option(
        None, "--run", help="register this run's artifacts (PATH defaults to outputs)"
    ),
    experiment: str | None = typer.Option(
        None, "--experiment", "-e", help="look --run's display name up in this experiment"
    ),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Register a file or folder (or a run's outputs) as the next version of a model. A folder
    with Model Builder's bestModel.onnx, bestModelMap.json and MLModel.zip (the outputs of an
    image-classification run, or its --output project) registers as that classifier."""
    request = ModelVersionRequest(
        name=name,
        description=description,
        tags=parse_pairs(tag, "--tag"),
        properties=parse_pairs(prop, "--property"),
        framework=framework,
    )
    with opened_workspace(workspace) as ws:
        if run is not None:
            run_id = runs.resolve_run(ws, run, experiment).id
            relative = models.DEFAULT_RUN_PATH if path is None else path.as_posix()
            version = models.register_run_model(ws, run_id, request, relative)
        elif path is None:
            raise InvalidValue("name what to register: `modelyard model register PATH --name N`")
        else:
            version = models.register_model(ws, path, request)
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    count = len(version.files)
    console.print(f"Registered {version.reference} ({count} file{'s' if count != 1 else ''}).")


@app.command("list")
def list_(
    name: str | None = typer.Argument(None, help="list this model's versions instead"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List models, or one model's versions (newest first)."""
    with opened_workspace(workspace) as ws:
        if name is not None:
            _print_versions(name, models.list_versions(ws, name), output)
            return
        found = models.list_models(ws)
    if output is OutputFormat.JSON:
        emit_json([model.to_dict() for model in found])
        return
    rows = [
        [m.name, m.latest_version, m.version_count, _aliases(m.aliases), format_time(m.updated_at)]
        for m in found
    ]
    emit_table("Models", MODEL_COLUMNS, rows)


def _print_versions(name: str, versions: list[ModelVersion], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json([version.to_dict() for version in versions])
        return
    rows = [
        [
            v.version,
            v.framework or "",
            ", ".join(v.aliases),
            len(v.files),
            v.size,
            v.lineage.run_id or "",
            format_time(v.created_at),
            v.created_by,
        ]
        for v in versions
    ]
    emit_table(f"Model {name}", VERSION_COLUMNS, rows)


def _aliases(aliases: dict[str, int] | Any) -> str:
    return ", ".join(f"{alias}→{version}" for alias, version in aliases.items())


@app.command()
def show(
    reference: str = ReferenceArgument,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a version: files with their SHA-256, tags, properties, aliases, schema, lineage."""
    with opened_workspace(workspace) as ws:
        version = models.get_model_version(ws, reference)
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    emit_mapping(f"Model {version.reference}", _summary(version), sort=False)
    rows = [[file.path, file.size, file.sha256] for file in version.files]
    emit_table("Files", ["path", "size", "sha256"], rows, whole={"path"})
    for title, pairs in (("Tags", version.tags), ("Properties", version.properties)):
        if pairs:
            emit_mapping(title, dict(pairs))


def _summary(version: ModelVersion) -> dict[str, Any]:
    lineage = version.lineage
    summary = {
        "description": version.description,
        "framework": version.framework,
        "aliases": ", ".join(version.aliases),
        "run": lineage.run_id,
        "experiment": lineage.experiment,
        "data hash": lineage.data_hash,
        "input": _schema_text(version.input_schema),
        "output": _schema_text(version.output_schema),
        "created": format_time(version.created_at),
        "created by": version.created_by,
    }
    return {key: value for key, value in summary.items() if value not in (None, "")}


def _schema_text(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None if schema is None else json.dumps(schema)
    fields = ", ".join(str(item.get("name")) for item in schema.get("fields") or [])
    return f"{schema.get('name', '')}({fields})" if fields else json.dumps(schema)


@app.command()
def download(
    reference: str = ReferenceArgument,
    to: Path = typer.Option(..., "--to", help="the folder to copy the files into"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace files already there"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Copy a version's files into a folder, keeping their paths."""
    with opened_workspace(workspace) as ws:
        written = models.download(ws, reference, to, exist_ok=overwrite)
    if output is OutputFormat.JSON:
        emit_json([str(path) for path in written])
        return
    console.print(f"Downloaded {len(written)} files to {to}.")


@app.command()
def delete(
    reference: str = ReferenceArgument,
    all_versions: bool = typer.Option(
        False, "--all-versions", help="delete the model NAME and every version"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Delete a version (its aliases go with it), or with --all-versions the whole model. A
    bare NAME without --all-versions is refused: name the version."""
    parsed = parse_model_reference(reference)
    if all_versions and (parsed.version is not None or parsed.alias is not None):
        raise InvalidValue(
            f"--all-versions deletes the whole model: name it alone (`{parsed.name}`), not"
            f" {reference!r}",
            reference=reference,
        )
    if not all_versions and parsed.version is None and parsed.alias is None:
        raise InvalidValue(
            f"{reference!r} names no version: delete `{parsed.name}:VERSION`, or the whole"
            f" model with `modelyard model delete {parsed.name} --all-versions`",
            reference=reference,
        )
    if not yes:
        what = f"model {parsed.name} and all its versions" if all_versions else reference
        typer.confirm(f"Delete {what}?", abort=True)
    with opened_workspace(workspace) as ws:
        if all_versions:
            deleted = models.delete_model(ws, parsed.name)
        else:
            deleted = [models.delete_version(ws, parsed)]
    if output is OutputFormat.JSON:
        emit_json({"deleted": [version.reference for version in deleted]})
        return
    console.print(f"Deleted {', '.join(v.reference for v in deleted) or parsed.name}.")


@alias_app.command("set")
def alias_set(
    name: str,
    alias: str,
    version: int = typer.Argument(..., help="the version the alias points at"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Point NAME@ALIAS at VERSION (moving it if it pointed elsewhere)."""
    with opened_workspace(workspace) as ws:
        pointed = models.set_alias(ws, name, alias, version)
    if output is OutputFormat.JSON:
        emit_json(pointed.to_dict())
        return
    console.print(f"{name}@{alias} → {name}:{version}")


@alias_app.command("delete")
def alias_delete(
    name: str,
    alias: str,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Remove the alias; the version stays."""
    with opened_workspace(workspace) as ws:
        removed = models.delete_alias(ws, name, alias)
    if output is OutputFormat.JSON:
        emit_json(removed.to_dict())
        return
    console.print(f"Deleted alias {name}@{alias} (it pointed at version {removed.version}).")


@tag_app.command("set")
def tag_set(
    reference: str = ReferenceArgument,
    pairs: list[str] = typer.Argument(..., metavar="KEY=VALUE...", help="tags to set"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Set tags of a version."""
    with opened_workspace(workspace) as ws:
        version = models.update_version(ws, reference, set_tags=parse_pairs(pairs, "tag"))
    _print_tags(version, output)


@tag_app.command("delete")
def tag_delete(
    reference: str = ReferenceArgument,
    keys: list[str] = typer.Argument(..., metavar="KEY...", help="tags to remove"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Remove tags of a version; an unknown key is refused."""
    with opened_workspace(workspace) as ws:
        version = models.update_version(ws, reference, delete_tags=keys)
    _print_tags(version, output)


def _print_tags(version: ModelVersion, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json(version.to_dict())
        return
    emit_mapping(f"Tags of {version.reference}", dict(version.tags))
