"""Workspaces behind `modelyard server`: the same `OpenWorkspace`, with stores that speak HTTP.

A project folder points at a server with `.modelyard/config.json` holding `server_url` (written by
`modelyard workspace connect URL` or `Workspace.connect`), as Azure ML's `config.json` names a
workspace in the cloud. Where the token comes from, first found wins: the caller's argument,
`$MODELYARD_TOKEN`, the token saved for that server on this machine (mode 0600, under
`~/.modelyard/servers/`), the workspace's own credentials file when the project config also names
the workspace folder (the server's own machine).

Nothing of the workspace is kept on the client; its local folder for the server holds only the
saved token and caches (built environments, staged uploads).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from modelyard.entities import Workspace
from modelyard.errors import InvalidValue, ModelyardError
from modelyard.fileio import write_json_atomic
from modelyard.services import auth
from modelyard.services.workspaces import (
    PROJECT_CONFIG,
    WORKSPACE_ENV,
    OpenWorkspace,
    ProjectLink,
    find_project_or_fail,
    open_workspace,
    resolve_workspace_root,
)
from modelyard.settings import Settings, default_home

SERVERS_FOLDER: Final = "servers"


def is_server_url(reference: str) -> bool:
    return reference.startswith(("http://", "https://"))


def normalized_server_url(server_url: str) -> str:
    parts = urlsplit(server_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue(
            f"server URL {server_url!r} is not an http(s) URL: pass the address `modelyard"
            " server` prints, like http://127.0.0.1:8765",
            server_url=server_url,
        )
    if parts.query or parts.fragment:
        raise InvalidValue(
            f"server URL {server_url!r} has a query or fragment: pass only scheme, host, port"
            " and path, like http://127.0.0.1:8765",
            server_url=server_url,
        )
    return server_url.strip().rstrip("/")


def local_folder(server_url: str) -> Path:
    """This machine's folder for one server: its saved token and caches."""
    url = normalized_server_url(server_url)
    readable = re.sub(r"[^A-Za-z0-9.-]+", "-", urlsplit(url).netloc).strip("-")
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return default_home() / SERVERS_FOLDER / f"{readable}-{digest}"


def open_remote_workspace(
    server_url: str,
    token: str | None = None,
    *,
    workspace_path: Path | None = None,
    flags: dict[str, Any] | None = None,
) -> OpenWorkspace:
    """Open the workspace served at `server_url`; AuthError (401) when no token is accepted."""
    # Imported here: every CLI command and job imports this module, few talk to a server.
    from modelyard.store.rest import RestStore
    from modelyard.store.rest_artifacts import RestArtifactStore
    from modelyard.store.rest_client import RestClient

    url = normalized_server_url(server_url)
    folder = local_folder(url)
    client = RestClient(url, token or _token_for(folder, workspace_path))
    try:
        record = client.call("GET", "/workspace")
    except ModelyardError:
        client.close()
        raise
    folder.mkdir(parents=True, exist_ok=True)
    return OpenWorkspace(
        workspace=_entity(record, url),
        root=folder,
        store=RestStore(client),
        artifacts=RestArtifactStore(client),
        settings=Settings.resolve(flags=flags),
        config={"server_url": url},
    )


def open_referenced_workspace(
    reference: str | None = None, start: Path | None = None
) -> OpenWorkspace:
    """By name, folder or server URL; else $MODELYARD_WORKSPACE; else the project config at or
    above `start` (a folder or a server)."""
    reference = reference or os.environ.get(WORKSPACE_ENV)
    if reference and is_server_url(reference):
        return open_remote_workspace(reference)
    if reference:
        return open_workspace(resolve_workspace_root(reference))
    return open_linked_workspace(find_project_or_fail(start or Path.cwd()))


def open_linked_workspace(link: ProjectLink) -> OpenWorkspace:
    """The workspace a project points at: its server when it names one, else its folder."""
    if link.server_url is not None:
        return open_remote_workspace(link.server_url, workspace_path=link.workspace_root)
    return open_workspace(link.local_root())


def save_token(server_url: str, token: str) -> Path:
    """Remember `token` for this server, for this machine's user only (mode 0600)."""
    folder = local_folder(server_url)
    folder.mkdir(parents=True, exist_ok=True)
    return auth.write_local_token(folder, token)


def write_project_config(project_dir: Path, ws: OpenWorkspace) -> Path:
    """Point `project_dir` at the server `ws` came from (no secret is written there)."""
    path = project_dir.absolute() / PROJECT_CONFIG
    config = {"workspace_name": ws.workspace.name, "server_url": ws.server_url}
    write_json_atomic(path, config)
    return path


def _token_for(folder: Path, workspace_path: Path | None) -> str | None:
    found = auth.token_from_environment() or auth.read_local_token(folder)
    if found is None and workspace_path is not None:
        found = auth.read_local_token(workspace_path)
    return found


def _entity(record: dict[str, Any], server_url: str) -> Workspace:
    return Workspace(
        name=str(record["name"]),
        path=str(record.get("path", "")),
        location=str(record.get("location", "local")),
        resource_group=str(record.get("resource_group", "default")),
        store_uri=server_url,
        created_at=str(record.get("created_at", "")),
        server_url=server_url,
    )
