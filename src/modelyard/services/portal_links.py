"""The "monitor current run" link: where a run's portal page is, when a portal serves it.

A workspace behind a server has its portal at the server's URL. An embedded workspace has one
while `modelyard server` runs on it: the server records its address in `<workspace>/server.json`
for as long as it runs (the file names its process, so a server that died without cleaning up is
not taken for a live one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Final
from urllib.parse import quote

from modelyard.fileio import write_json_atomic
from modelyard.services.workspaces import OpenWorkspace

SERVER_FILE: Final = "server.json"
DEFAULT_PORT: Final = 8765  # `modelyard server`'s
DEFAULT_LOCAL_URL: Final = f"http://127.0.0.1:{DEFAULT_PORT}"
APP_PATH: Final = "/app"  # where the server serves the portal (server/spa/)


def portal_url(server_url: str, run_id: str) -> str:
    """The page that monitors run `run_id` on the server at `server_url` (the portal app's)."""
    return f"{server_url.rstrip('/')}{APP_PATH}/runs/{quote(run_id, safe='')}"


def portal_link(ws: OpenWorkspace, run_id: str) -> str | None:
    """The run's page in the portal; None when no server serves this workspace now."""
    server_url = ws.server_url or _running_server_url(ws)
    return portal_url(server_url, run_id) if server_url else None


@contextmanager
def serving(ws: OpenWorkspace, server_url: str) -> Iterator[None]:
    """Record that this process serves `ws` at `server_url` until the block ends."""
    path = ws.root / SERVER_FILE
    write_json_atomic(path, {"url": server_url, "pid": os.getpid()})
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            path.unlink()


def _running_server_url(ws: OpenWorkspace) -> str | None:
    try:
        record = json.loads((ws.root / SERVER_FILE).read_text())
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
