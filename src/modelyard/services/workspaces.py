"""Workspaces: create, find, open, list and delete; one folder holds config, database and artifacts.

On disk (embedded default)::

    <workspace>/config.json    name, location, resource group, store URI
    <workspace>/modelyard.db   SQLite in WAL mode (unless the store URI points elsewhere)
    <workspace>/artifacts/     one folder per run
    <workspace>/models/        registered models' files, content-addressed (services/models.py)
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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.entities import Workspace, validate_workspace_name
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.fileio import exclusive_lock, write_json_atomic
from modelyard.settings import Settings, default_home
from modelyard.store.artifacts import ArtifactRepository, ArtifactStore
from modelyard.store.base import (
    AuthStore,
    ComponentStore,
    ComputeStore,
    DataStore,
    ModelStore,
    PipelineStore,
    TrackingStore,
)
from modelyard.store.sql import schema
from modelyard.store.sql.engine import make_engine, parse_store_uri
from modelyard.store.sql.store import SqlStore

if TYPE_CHECKING:
    from modelyard.store.rest import RestStore

CONFIG_FILE = "config.json"
PROJECT_CONFIG = Path(".modelyard") / "config.json"
DATABASE_FILE = "modelyard.db"
WORKSPACE_ENV = "MODELYARD_WORKSPACE"
# Set for a job beside a workspace that a `modelyard server` serves: that server's URL, where
# the jobs it submits to a compute on other machines (a pipeline's or a sweep's steps on Ray)
# report. Read here, where the job opens its workspace; set by the scheduler that launches it.
SERVED_AT_ENV = "MODELYARD_SERVED_AT"
JOB_WORKSPACE_ENV = "MODELYARD_WORKSPACE_PATH"  # runtime/job_env.py's: the job's own workspace


@dataclass
class OpenWorkspace:
    """A workspace with its stores open: what every service works on.

    Embedded, `root` is the workspace folder and the stores are SQL and local disk. Behind a
    server (`workspace.server_url` set), the stores speak HTTP and `root` is this machine's own
    folder for that server: its cache and its saved token, never the workspace's data.
    """

    workspace: Workspace
    root: Path
    store: TrackingStore
    artifacts: ArtifactRepository
    settings: Settings
    config: dict[str, Any] = field(default_factory=dict)
    # The URL a `modelyard server` serves this workspace at, set by that server's process: jobs
    # on machines without the workspace's disk (Ray) report there.
    served_at: str | None = None

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def server_url(self) -> str | None:
        return self.workspace.server_url

    @property
    def local_artifacts(self) -> ArtifactStore:
        """The artifact folder on this disk, for what only the workspace's own machine does
        (supervising jobs, serving files); refused for a workspace behind a server."""
        if not isinstance(self.artifacts, ArtifactStore):
            raise self._served_elsewhere()
        return self.artifacts

    @property
    def auth_store(self) -> AuthStore:
        """Users and tokens as the workspace's own database keeps them (hashes only), on its
        machine; refused for a workspace behind a server, whose clients manage users and
        tokens through the server's routes instead (`services.auth`, `store.rest_access`)."""
        return self.sql_store

    @property
    def compute_store(self) -> ComputeStore:
        """Computes and the queue, in the workspace's own database (on its machine); a
        workspace behind a server reaches them through the server's routes."""
        return self.sql_store

    @property
    def model_store(self) -> ModelStore:
        """The model registry's records, in the workspace's own database (on its machine); a
        workspace behind a server reaches them through the server's `/models` routes."""
        return self.sql_store

    @property
    def data_store(self) -> DataStore:
        """Data assets' records, in the workspace's own database (on its machine); a
        workspace behind a server reaches them through the server's `/data` routes."""
        return self.sql_store

    @property
    def component_store(self) -> ComponentStore:
        """Registered components, in the workspace's own database (on its machine); a
        workspace behind a server reaches them through the server's `/components` routes."""
        return self.sql_store

    @property
    def pipeline_store(self) -> PipelineStore:
        """Pipeline steps' reuse keys, in the workspace's own database: a pipeline's driver
        runs on its machine."""
        return self.sql_store

    @property
    def schedule_store(self) -> SqlStore:
        """Schedules and their fires, in the workspace's own database (on its machine), where
        the loop that fires them runs; a client reaches them through the server's routes."""
        return self.sql_store

    @property
    def published_pipeline_store(self) -> SqlStore:
        """Published pipelines' records, in the workspace's own database: their files are on
        its machine, where their runs' drivers run; a client reaches them through the
        server's `/published-pipelines` routes."""
        return self.sql_store

    @property
    def pipeline_draft_store(self) -> SqlStore:
        """The designer's pipeline drafts, in the workspace's own database; a client reaches
        them through the server's `/pipeline-drafts` routes."""
        return self.sql_store

    @property
    def endpoint_store(self) -> SqlStore:
        """Endpoints and deployments: their replicas run on the workspace's machine, so only
        there (a workspace behind a server reaches them through the server's routes)."""
        return self.sql_store

    @property
    def sql_store(self) -> SqlStore:
        """The workspace's database itself, for what needs SQL (tests); services use `store` or
        `auth_store`, which say what they need."""
        if not isinstance(self.store, SqlStore):
            raise self._served_elsewhere()
        return self.store

    @property
    def rest_store(self) -> RestStore:
        """The server's API, for what a workspace behind a server asks the server to do."""
        from modelyard.store.rest import RestStore  # httpx only where a server is used

        if not isinstance(self.store, RestStore):
            raise InvalidValue(
                f"workspace {self.workspace.name!r} is not behind a server: open it with its"
                " server URL",
                workspace=self.workspace.name,
            )
        return self.store

    def _served_elsewhere(self) -> InvalidValue:
        return InvalidValue(
            f"workspace {self.workspace.name!r} is served by {self.server_url}: this operation"
            " runs on the server's machine only; run it there, or use the server's API",
            workspace=self.workspace.name,
        )

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
        # 0600: a PostgreSQL store URI may carry its password.
        write_json_atomic(root / CONFIG_FILE, config, mode=0o600)
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
        artifacts=ArtifactStore(
            root / "artifacts", check_run_open=partial(store.check_run_accepts, what="artifacts")
        ),
        settings=settings,
        config=config,
        served_at=_served_at(root),
    )


def _served_at(root: Path) -> str | None:
    """In a job a server's pass launched beside this workspace: that server's URL, so that
    the jobs this one submits to a ray compute (a pipeline's steps) can report to it. Only
    for the job's own workspace: its code may open another, which no server serves."""
    job_workspace = os.environ.get(JOB_WORKSPACE_ENV)
    if not job_workspace or Path(job_workspace).absolute() != root:
        return None
    return os.environ.get(SERVED_AT_ENV) or None


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
    return find_project_or_fail(start or Path.cwd()).local_root()


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


@dataclass(frozen=True)
class ProjectLink:
    """What the project at or above a folder points at: a workspace folder, a server, or both
    (the server's own machine may name both)."""

    source: Path  # the project config, or the workspace folder found on the way up
    workspace_root: Path | None = None
    server_url: str | None = None

    def local_root(self) -> Path:
        """The workspace folder, for what needs it on this disk (refused for a server only)."""
        if self.workspace_root is None:
            raise InvalidValue(
                f"project config {self.source} points at the server {self.server_url}: this"
                " command needs the workspace folder; run it on the server's machine with"
                " --workspace PATH",
                server_url=self.server_url,
            )
        return self.workspace_root


def find_project(start: Path) -> ProjectLink | None:
    """The nearest project config at or above `start`, or a workspace folder on the way."""
    for folder in (start.absolute(), *start.absolute().parents):
        project_config = folder / PROJECT_CONFIG
        if project_config.is_file():
            return _link_of(project_config, read_project_config(project_config))
        if (folder / CONFIG_FILE).is_file() and (folder / DATABASE_FILE).exists():
            return ProjectLink(source=folder, workspace_root=folder)
    return None


def find_project_or_fail(start: Path) -> ProjectLink:
    found = find_project(start)
    if found is None:
        raise NotFound(
            f"no .modelyard/config.json (nor a workspace folder) in {start.absolute()} or its"
            " parents: run `modelyard workspace create NAME` or `modelyard workspace connect"
            " URL` there, or pass --workspace NAME|PATH",
            path=str(start),
        )
    return found


def read_project_config(project_config: Path) -> dict[str, Any]:
    try:
        config = json.loads(project_config.read_text())
        if not isinstance(config, dict):
            raise TypeError(f"a JSON {type(config).__name__}, not an object")
    except (ValueError, TypeError) as error:
        raise _damaged_project_config(project_config, error) from error
    return config


def _link_of(project_config: Path, config: dict[str, Any]) -> ProjectLink:
    server_url = config.get("server_url")
    if server_url is not None and not isinstance(server_url, str):
        raise _damaged_project_config(project_config, TypeError(f"server_url {server_url!r}"))
    if "workspace_path" not in config and server_url is not None:
        return ProjectLink(source=project_config, server_url=server_url)
    try:
        target = Path(config["workspace_path"])
    except (KeyError, TypeError) as error:
        raise _damaged_project_config(project_config, error) from error
    root = target if target.is_absolute() else (project_config.parent.parent / target).absolute()
    return ProjectLink(source=project_config, workspace_root=root, server_url=server_url)


def _damaged_project_config(project_config: Path, error: Exception) -> InvalidValue:
    return InvalidValue(
        f"project config {project_config} is damaged ({error}): delete it and run"
        " `modelyard workspace create` or `workspace show --write-config`",
        path=str(project_config),
    )


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
