"""Options shared by every noun, and opening the workspace a command works on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from modelyard.services.workspaces import OpenWorkspace, open_workspace, resolve_workspace_root

WorkspaceOption = typer.Option(
    None,
    "--workspace",
    "-w",
    help="workspace name or folder (default: $MODELYARD_WORKSPACE, then .modelyard/config.json)",
)


@contextmanager
def opened_workspace(reference: str | None) -> Iterator[OpenWorkspace]:
    ws = open_workspace(resolve_workspace_root(reference))
    try:
        yield ws
    finally:
        ws.close()
