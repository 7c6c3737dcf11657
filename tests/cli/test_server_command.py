"""`modelyard server` as a user starts it: a real process, a real port on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli.commands import modelyard

SERVER = [sys.executable, "-m", "modelyard.cli.main", "server"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(workspace: Path, *arguments: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    process = subprocess.Popen(
        [*SERVER, "-w", str(workspace), "--port", str(port), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
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
    process, port = _start(tmp_path / "ws")
    try:
        out = _read_until(process, "Serving workspace")
        token = re.search(r"(myd_\S+)", out)
        assert token, out
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
    finally:
        _stop(process)
    again, _ = _start(tmp_path / "ws")
    try:
        second = _read_until(again, "Serving workspace")
        assert "myd_" not in second  # shown once, never again
    finally:
        _stop(again)


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
