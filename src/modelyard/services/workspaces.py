"""Workspaces: create, find, open, list and delete; one folder holds config, database and artifacts.

On disk (embedded default)::

    <workspace>/config.json    name, location, resource group, store URI
    <workspace>/modelyard.db   SQLite in WAL mode (unless the store URI points elsewhere)
    <workspace>/artifacts/     one folder per run
    <workspace>/cache/         built environments, job working folders

A project folder gets `.modelyard/config.json` pointing at its workspace, found by walking up
parent folders (as Azure ML does with `.azureml/config.json`). Known workspaces are listed in
`~/.modelyard/workspaces.json` so they can be named instead of located.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelyard.entities import Workspace, validate_workspace_name
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.fileio import exclusive_lock, write_json_atomic
from modelyard.settings import Settings, default_home
from modelyard.store.artifacts import ArtifactStore
from modelyard.store.sql import schema
from modelyard.store.sql.engine import make_engine, parse_store_uri
from modelyard.store.sql.store import SqlStore

CONFIG_FILE = "config.json"
PROJECT_CONFIG = Path(".modelyard") / "config.json"
DATABASE_FILE = "modelyard.db"
WORKSPACE_ENV = "MODELYARD_WORKSPACE"


@dataclass
class OpenWorkspace:
    """A workspace with its stores open: what every service works on."""

    workspace: Workspace
    root: Path
    store: SqlStore
    artifacts: ArtifactStore
    settings: Settings
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def close(self) -> None:
        self.store.close()


def create_workspace(
    name: str,
    *,
    path: Path | None = None,
    location: str = "local",
    resource_group: str = "default",
    store_uri: str | None = None,
    project_dir: Path | None = None,
) -> OpenWorkspace:
    validate_workspace_name(name)
    root = (path or default_home() / "workspaces" / name).expanduser().absolute()
    _refuse_existing(name, root)
    uri = store_uri or f"sqlite:///{root / DATABASE_FILE}"
    parse_store_uri(uri)
    config = _new_config(name, location, resource_group, uri)
    _build_workspace_folder(root, config)
    _register(name, root)
    if project_dir is not None:
        write_project_config(project_dir, root)
    return open_workspace(root)


def _new_config(name: str, location: str, resource_group: str, uri: str) -> dict[str, Any]:
    return {
        "name": name,
        "location": location,
        "resource_group": resource_group,
        "store_uri": uri,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {},
    }


def _refuse_existing(name: str, root: Path) -> None:
    if (root / CONFIG_FILE).exists():
        raise AlreadyExists(
            f"a workspace already exists at {root}: open it, or choose another --path",
            path=str(root),
        )
    registered = _read_registry().get(name)
    if registered and (Path(registered) / CONFIG_FILE).exists():
        raise AlreadyExists(
            f"workspace {name!r} already exists at {registered}: choose another name, or"
            f" delete it with `modelyard workspace delete {name}`",
            name=name,
        )


def _build_workspace_folder(root: Path, config: dict[str, Any]) -> None:
    """Create the schema first and write config.json last: no config, no workspace."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        (root / "artifacts").mkdir(exist_ok=True)
        (root / "cache").mkdir(exist_ok=True)
        engine = make_engine(config["store_uri"])
        try:
            schema.upgrade(engine)
        finally:
            engine.dispose()
        write_json_atomic(root / CONFIG_FILE, config)
    except BaseException:
        if not (root / CONFIG_FILE).exists():
            _remove_partial(root)
        raise


def _remove_partial(root: Path) -> None:
    for child in (
        "artifacts",
        "cache",
        DATABASE_FILE,
        DATABASE_FILE + "-wal",
        DATABASE_FILE + "-shm",
    ):
        target = root / child
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()
    if root.exists() and not any(root.iterdir()):
        root.rmdir()


def open_workspace(root: Path, flags: dict[str, Any] | None = None) -> OpenWorkspace:
    root = root.expanduser().absolute()
    config = read_workspace_config(root)
    settings = Settings.resolve(flags=flags, workspace_config=config.get("settings") or {})
    store = SqlStore(
        config["store_uri"],
        busy_timeout_s=settings.sqlite_busy_timeout_s,
        upgrade_hint=f"modelyard db upgrade --workspace {root}",
    )
    return OpenWorkspace(
        workspace=_entity(root, config),
        root=root,
        store=store,
        artifacts=ArtifactStore(root / "artifacts"),
        settings=settings,
        config=config,
    )


def upgrade_schema(root: Path) -> tuple[str | None, str]:
    """Bring the workspace database to this code's schema; return (before, after)."""
    config = read_workspace_config(root)
    engine = make_engine(config["store_uri"])
    try:
        before = schema.current_revision(engine)
        schema.upgrade(engine)
        return before, schema.head_revision()
    finally:
        engine.dispose()


def read_workspace_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_FILE
    if not path.is_file():
        raise NotFound(
            f"no workspace at {root}: create one with `modelyard workspace create NAME --path"
            f" {root}`",
            path=str(root),
        )
    try:
        config = json.loads(path.read_text())
        validate_workspace_name(config["name"])
        parse_store_uri(config["store_uri"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"workspace config {path} is damaged ({error}): restore it from a backup",
            path=str(path),
        ) from error
    return dict(config)


def _entity(root: Path, config: dict[str, Any]) -> Workspace:
    return Workspace(
        name=config["name"],
        path=str(root),
        location=config.get("location", "local"),
        resource_group=config.get("resource_group", "default"),
        store_uri=config["store_uri"],
        created_at=config.get("created_at", ""),
        server_url=config.get("server_url"),
    )


# Finding a workspace ---------------------------------------------------------------------------


def resolve_workspace_root(reference: str | None = None, start: Path | None = None) -> Path:
    """By name or path, else $MODELYARD_WORKSPACE, else the project config at or above `start`."""
    reference = reference or os.environ.get(WORKSPACE_ENV)
    if reference:
        return _root_from_reference(reference)
    found = find_project_config(start or Path.cwd())
    if found is None:
        raise NotFound(
            "no workspace found here or in any parent folder: create one with `modelyard"
            " workspace create NAME`, or pass --workspace NAME|PATH",
        )
    return found


def _root_from_reference(reference: str) -> Path:
    candidate = Path(reference).expanduser()
    if (candidate / CONFIG_FILE).is_file():
        return candidate.absolute()
    registered = _read_registry().get(reference)
    if registered:
        return Path(registered)
    raise NotFound(
        f"workspace {reference!r} not found (neither a known name nor a workspace folder):"
        " see `modelyard workspace list`",
        workspace=reference,
    )


def find_project_config(start: Path) -> Path | None:
    for folder in (start.absolute(), *start.absolute().parents):
        project_config = folder / PROJECT_CONFIG
        if project_config.is_file():
            return _root_from_project_config(project_config)
        if (folder / CONFIG_FILE).is_file() and (folder / DATABASE_FILE).exists():
            return folder
    return None


def _root_from_project_config(project_config: Path) -> Path:
    try:
        target = Path(json.loads(project_config.read_text())["workspace_path"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidValue(
            f"project config {project_config} is damaged ({error}): delete it and run"
            " `modelyard workspace create` or `workspace show --write-config`",
            path=str(project_config),
        ) from error
    return target if target.is_absolute() else (project_config.parent.parent / target).absolute()


def write_project_config(project_dir: Path, root: Path) -> Path:
    config = read_workspace_config(root)
    path = project_dir.absolute() / PROJECT_CONFIG
    write_json_atomic(path, {"workspace_name": config["name"], "workspace_path": str(root)})
    return path


# The user's list of known workspaces ------------------------------------------------------------


def list_workspaces() -> list[Workspace]:
    found = []
    for _name, path in sorted(_read_registry().items()):
        try:
            found.append(_entity(Path(path), read_workspace_config(Path(path))))
        except (NotFound, InvalidValue):
            continue  # Deleted or moved by hand: not a workspace any more.
    return found


def delete_workspace(reference: str) -> Path:
    root = _root_from_reference(reference)
    config = read_workspace_config(root)
    with exclusive_lock(_registry_path().with_suffix(".lock")):
        registry = _read_registry()
        registry.pop(config["name"], None)
        write_json_atomic(_registry_path(), registry)
    # config.json goes first: a half-deleted folder is then no longer taken for a workspace.
    (root / CONFIG_FILE).unlink()
    shutil.rmtree(root, ignore_errors=True)
    return root


def _registry_path() -> Path:
    return default_home() / "workspaces.json"


def _read_registry() -> dict[str, str]:
    path = _registry_path()
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        data = {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _register(name: str, root: Path) -> None:
    with exclusive_lock(_registry_path().with_suffix(".lock")):
        registry = _read_registry()
        registry[name] = str(root)
        write_json_atomic(_registry_path(), registry)
