"""Options shared by every noun, and opening the workspace a command works on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from modelyard.services.remote import open_referenced_workspace
from modelyard.services.workspaces import OpenWorkspace

WorkspaceOption = typer.Option(
    None,
    "--workspace",
    "-w",
    help="workspace name, folder or server URL (default: $MODELYARD_WORKSPACE, then"
    " .modelyard/config.json)",
)


@contextmanager
def opened_workspace(reference: str | None) -> Iterator[OpenWorkspace]:
    ws = open_referenced_workspace(reference)
    try:
        yield ws
    finally:
        ws.close()
