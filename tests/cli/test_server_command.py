"""`modelyard server` as a user starts it: a real process, a real port on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx

from cli.commands import modelyard
from modelyard.services import portal_links
from modelyard.services.workspaces import open_workspace

SERVER = [sys.executable, "-m", "modelyard.cli.main", "server"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(
    workspace: Path, *arguments: str, columns: int = 200
) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    process = subprocess.Popen(
        [*SERVER, "-w", str(workspace), "--port", str(port), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
        start_new_session=True,
    )
    return process, port


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 60) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        line = process.stdout.readline()
        assert line, seen  # the server exited
        seen += line
    return seen


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)  # the group this test started, nothing else
    process.wait(timeout=30)


def test_first_start_prints_the_admin_token_once_and_it_works(tmp_path: Path) -> None:
    modelyard("workspace", "create", "srv-ws", "--path", str(tmp_path / "ws"), cwd=tmp_path)
    process, port = _start(tmp_path / "ws", "--allowed-host", "ml.example.com")
    try:
        out = _read_until(process, "Serving workspace")
        token = re.search(r"(myd_\S+)", out)
        assert token, out
        assert f"(portal: http://127.0.0.1:{port}/app/)" in out  # the app, not the old pages
        credentials = tmp_path / "ws" / "credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                refused = httpx.get(f"{base}/api/v1/workspace")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert refused.status_code == 401
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        assert httpx.get(f"{base}/api/v1/workspace", headers=headers).json()["name"] == "srv-ws"
        named = httpx.get(f"{base}/api/v1/workspace", headers={**headers, "host": "ml.example.com"})
        assert named.status_code == 200  # --allowed-host
        rebound = httpx.get(f"{base}/api/v1/workspace", headers={**headers, "host": "evil.example"})
        assert rebound.status_code == 400
    finally:
        _stop(process)
    again, _ = _start(tmp_path / "ws")
    try:
        second = _read_until(again, "Serving workspace")
        assert "myd_" not in second  # shown once, never again
    finally:
        _stop(again)


def test_the_admin_token_prints_on_one_line_at_80_columns(tmp_path: Path) -> None:
    modelyard("workspace", "create", "srv-ws", "--path", str(tmp_path / "ws"), cwd=tmp_path)
    process, _ = _start(tmp_path / "ws", columns=80)
    try:
        out = _read_until(process, "Serving workspace")
    finally:
        _stop(process)
    saved = re.search(r"myd_[A-Za-z0-9_-]+", (tmp_path / "ws" / "credentials.json").read_text())
    assert saved, "no token in credentials.json"
    assert f"  {saved.group(0)}\n" in out, out  # whole on its own line, copyable as printed


def test_no_auth_is_refused_off_loopback_in_one_line(tmp_path: Path) -> None:
    modelyard("workspace", "create", "srv-ws", "--path", str(tmp_path / "ws"), cwd=tmp_path)
    result = modelyard(
        "server",
        "-w",
        str(tmp_path / "ws"),
        "--no-auth",
        "--host",
        "0.0.0.0",
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert "--no-auth with --host 0.0.0.0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _wait_until_up(base: str) -> None:
    for _ in range(200):
        try:
            httpx.get(f"{base}/login")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base} never answered")


def test_submits_print_the_portal_link_locally_and_through_a_connected_folder(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    modelyard("workspace", "create", "srv-ws", "--path", str(workspace), cwd=tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    (code / "hello.py").write_text("print('hello from', __name__)\n")
    submit = ("job", "submit", "-e", "links", "--source-dir", str(code), "--script", "hello.py")

    offline = modelyard(*submit, "-w", str(workspace), "--stream", cwd=tmp_path)
    assert "start `modelyard server -w srv-ws`, then open http://127.0.0.1:8765/app/runs/" in (
        offline.stdout
    )
    process, port = _start(workspace)
    base = f"http://127.0.0.1:{port}"
    try:
        token = re.search(r"(myd_\S+)", _read_until(process, "Serving workspace"))
        assert token
        _wait_until_up(base)
        assert json.loads((workspace / "server.json").read_text())["url"] == base

        local = modelyard(*submit, "-w", str(workspace), cwd=tmp_path)
        run_id = re.search(r"Submitted run (\S+)", local.stdout)
        assert (
            run_id
            and f"Monitor it in the portal: {base}/app/runs/{run_id.group(1)}" in local.stdout
        )

        laptop = tmp_path / "laptop"
        laptop.mkdir()
        modelyard("workspace", "connect", base, "--token", token.group(1), cwd=laptop)
        remote = modelyard(*submit, "--stream", cwd=laptop)  # found through .modelyard/config.json
        assert "hello from __main__" in remote.stdout  # the log, streamed back from the server
        remote_id = re.search(r"Submitted run (\S+)", remote.stdout)
        assert remote_id and f"{base}/app/runs/{remote_id.group(1)}" in remote.stdout
        shown = modelyard("run", "show", remote_id.group(1), "--output", "json", cwd=laptop)
        assert json.loads(shown.stdout)["status"] == "Completed"
    finally:
        _stop(process)
    # uvicorn ends the process with the SIGTERM it caught, so server.json may stay behind: the
    # link must not outlive the server all the same.
    with closing(open_workspace(workspace)) as ws:
        assert portal_links.portal_link(ws, run_id.group(1)) is None


def test_the_server_advertises_the_url_jobs_on_other_machines_use() -> None:
    from modelyard.cli.server import _advertised_url

    assert _advertised_url("", "127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert _advertised_url("", "::1", 8123) == "http://[::1]:8123"
    # A wildcard bind's loopback address would point a job at its own machine: the host's name.
    assert _advertised_url("", "0.0.0.0", 8123) == f"http://{socket.getfqdn()}:8123"
    assert _advertised_url("https://yard.example/ ", "0.0.0.0", 8123) == "https://yard.example"


def test_the_advertised_host_is_a_name_the_server_answers_to(tmp_path: Path) -> None:
    from modelyard.server.app import advertised_host
    from modelyard.services.workspaces import create_workspace

    ws = create_workspace("advertised", path=tmp_path / "ws")
    try:
        assert advertised_host(ws) == frozenset()
        ws.served_at = "http://Yard.Example:8000"
        assert advertised_host(ws) == {"yard.example"}
    finally:
        ws.close()
