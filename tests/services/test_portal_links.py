"""The "monitor current run" link: known while a server serves the workspace, never after."""

from __future__ import annotations

import json
import subprocess
import sys

from modelyard.services import portal_links
from modelyard.services.workspaces import OpenWorkspace


def test_no_link_without_a_server(sqlite_workspace: OpenWorkspace) -> None:
    assert portal_links.portal_link(sqlite_workspace, "run-1") is None


def test_link_while_this_process_serves_the_workspace(sqlite_workspace: OpenWorkspace) -> None:
    ws = sqlite_workspace
    with portal_links.serving(ws, "http://127.0.0.1:9999"):
        assert portal_links.portal_link(ws, "a/b") == "http://127.0.0.1:9999/app/runs/a%2Fb"
    assert portal_links.portal_link(ws, "a/b") is None
    assert not (ws.root / portal_links.SERVER_FILE).exists()


def test_a_record_left_by_a_dead_server_or_damaged_is_ignored(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    record = ws.root / portal_links.SERVER_FILE
    record.write_text(json.dumps({"url": "http://127.0.0.1:9999", "pid": dead_pid}))
    assert portal_links.portal_link(ws, "run-1") is None
    record.write_text("{not json")
    assert portal_links.portal_link(ws, "run-1") is None


def test_the_link_is_the_run_page_of_the_portal_app() -> None:
    url = portal_links.portal_url("http://127.0.0.1:8765/", "abc123")
    assert url == "http://127.0.0.1:8765/app/runs/abc123"
    assert portal_links.portal_url("https://ml.example/yard", "a/b") == (
        "https://ml.example/yard/app/runs/a%2Fb"
    )
