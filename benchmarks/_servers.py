"""The servers the benchmarks measure: `modelyard server` and `mlflow server`, each a real process
on 127.0.0.1 on a free port, in a session of its own, stopped with everything it started.

Shared by `server.py` and `portal.py`. A server that does not start becomes `BenchmarkFailed`,
whose message (with the tail of the server's log) the benchmarks print as one line.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from _mlflow_env import tail

API = "/api/v1"


class BenchmarkFailed(Exception):
    """A server did not start or answered wrongly: printed as one line, exit status 1."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(
    name: str,
    command: list[str],
    log_path: Path,
    ready: Callable[[], bool],
    timeout_s: float,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process in a session of its own, stopped with everything it started; `env` is
    added to this process's environment."""
    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_ready(name, process, log_path, ready, timeout_s)
        yield process
    finally:
        stop(process)


def wait_until_ready(
    name: str,
    process: subprocess.Popen[bytes],
    log_path: Path,
    ready: Callable[[], bool],
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            why = "exited" if process.poll() is not None else f"not ready after {timeout_s:.0f} s"
            raise BenchmarkFailed(f"{name} {why}; its log:\n{tail(log_path.read_text())}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group, SIGKILL to whatever is left of it."""
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)  # the group this script started, nothing else
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue


def answers(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, headers=headers, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class ModelyardServer:
    process: subprocess.Popen[bytes]
    url: str
    token: str  # the admin token it printed on its first start

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def modelyard_server(workspace: Path, scratch: Path, timeout_s: float) -> Iterator[ModelyardServer]:
    """`modelyard server -w <workspace>` with auth on, called with the admin token it prints."""
    port, log_path = free_port(), scratch / "modelyard-server.log"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "modelyard.cli.main", "server", "-w", str(workspace)]
    token_holder: list[str] = []

    def ready() -> bool:
        found = re.search(r"(myd_\S+)", log_path.read_text())
        if found and not token_holder:
            token_holder.append(found.group(1))
        headers = {"Authorization": f"Bearer {token_holder[0]}"} if token_holder else None
        return bool(token_holder) and answers(f"{url}{API}/workspace", headers)

    with running("modelyard server", [*command, "--port", str(port)], log_path, ready,
                 timeout_s) as process:  # fmt: skip
        yield ModelyardServer(process, url, token_holder[0])


@contextmanager
def mlflow_server(
    python: Path, db: Path, artifacts: Path, scratch: Path, timeout_s: float
) -> Iterator[str]:
    """`mlflow server` from the MLflow virtualenv on the SQLite store `db`; its URL."""
    port, log_path = free_port(), scratch / "mlflow-server.log"
    url = f"http://127.0.0.1:{port}"
    command = [
        str(python.parent / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{db}",
        "--default-artifact-root", str(artifacts), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    # MLflow 3 also starts 7 job-runner processes for its GenAI features by default; tracking
    # does not use them, and on a small machine they would take CPU from the server measured.
    os.environ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with running("mlflow server", command, log_path, lambda: answers(f"{url}/health"),
                 timeout_s):  # fmt: skip
        yield url


def exit_on_sigterm(signum: int, _frame: object) -> None:
    """Stopped from outside (`timeout`, a CI job): unwind, so the servers are stopped too."""
    raise SystemExit(128 + signum)
