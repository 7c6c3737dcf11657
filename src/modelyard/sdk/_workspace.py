"""The SDK's Workspace: the handle on one place that holds experiments, runs and artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.entities import Workspace as WorkspaceRecord
from modelyard.services import remote
from modelyard.services import workspaces as workspace_service
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.sdk._experiment import Experiment


class Workspace:
    """Open with `Workspace.from_config()`, `Workspace.get(name)` or `Workspace.create(name)`."""

    def __init__(self, opened: OpenWorkspace) -> None:
        self._opened = opened

    @classmethod
    def create(
        cls,
        name: str,
        *,
        path: str | Path | None = None,
        location: str = "local",
        resource_group: str = "default",
        store_uri: str | None = None,
        exist_ok: bool = False,
    ) -> Workspace:
        root = Path(path) if path is not None else None
        if exist_ok and root is not None and (root / workspace_service.CONFIG_FILE).exists():
            return cls.get(str(root))
        return cls(
            workspace_service.create_workspace(
                name,
                path=root,
                location=location,
                resource_group=resource_group,
                store_uri=store_uri,
            )
        )

    @classmethod
    def get(cls, name_or_path: str) -> Workspace:
        """By name, folder, or the URL of a `modelyard server`."""
        return cls(remote.open_referenced_workspace(name_or_path))

    @classmethod
    def connect(cls, server_url: str, token: str | None = None) -> Workspace:
        """The workspace served at `server_url`; a `token` given here is saved for next time
        (this machine's user only). Then `write_config()` points a project folder at it."""
        opened = remote.open_remote_workspace(server_url, token)
        if token is not None:
            remote.save_token(server_url, token)
        return cls(opened)

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Workspace:
        """Find `.modelyard/config.json` in `path` (default: the current folder) or a parent;
        it names a workspace folder or a server."""
        start = Path(path) if path is not None else Path.cwd()
        return cls(remote.open_linked_workspace(workspace_service.find_project_or_fail(start)))

    @staticmethod
    def list() -> list[WorkspaceRecord]:
        return workspace_service.list_workspaces()

    @property
    def name(self) -> str:
        return self._opened.workspace.name

    @property
    def location(self) -> str:
        return self._opened.workspace.location

    @property
    def resource_group(self) -> str:
        return self._opened.workspace.resource_group

    @property
    def path(self) -> Path:
        """The workspace folder; for a workspace behind a server, this machine's folder for it."""
        return self._opened.root

    @property
    def server_url(self) -> str | None:
        return self._opened.server_url

    @property
    def experiments(self) -> dict[str, Experiment]:
        from modelyard.sdk._experiment import Experiment

        return {e.name: Experiment(self, e.name) for e in self._opened.store.list_experiments()}

    def get_details(self) -> dict[str, Any]:
        return self._opened.workspace.to_dict()

    def write_config(self, path: str | Path = ".") -> Path:
        if self._opened.server_url is not None:
            return remote.write_project_config(Path(path), self._opened)
        return workspace_service.write_project_config(Path(path), self._opened.root)

    def delete(self) -> None:
        """Delete the workspace folder and everything in it (on the workspace's own machine)."""
        self._opened.local_artifacts  # noqa: B018 (refused for a workspace behind a server)
        self.close()
        workspace_service.delete_workspace(str(self._opened.root))

    def close(self) -> None:
        self._opened.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.server_url is not None:
            return f"Workspace(name={self.name!r}, server_url={self.server_url!r})"
        return f"Workspace(name={self.name!r}, path={str(self.path)!r})"
