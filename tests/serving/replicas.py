"""Real scoring replicas for tests: `python -m modelyard.serving` subprocesses on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

import modelyard

SRC = Path(modelyard.__file__).resolve().parents[1]
START_TIMEOUT_S = 60


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replica_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "modelyard.serving", *map(str, args)]


def replica_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), **(extra or {})}


@contextmanager
def running_replica(
    log_path: Path, *args: str | Path, env: dict[str, str] | None = None
) -> Iterator[Replica]:
    """A replica serving until the block ends, ready (init() done) when the block starts."""
    port = free_port()
    command = replica_command("--host", "127.0.0.1", "--port", str(port), *args)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=replica_env(env),
            start_new_session=True,
        )
    replica = Replica(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_ready(replica)
        yield replica
    finally:
        _stop(process)


def _wait_ready(replica: Replica) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(
                f"the replica exited ({replica.process.returncode}):\n{replica.log()}"
            )
        try:
            if httpx.get(f"{replica.url}/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the replica did not become ready:\n{replica.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the replica and nothing else
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def write_keys(path: Path, primary: str, secondary: str = "") -> None:
    """Rewrite the keys file atomically, as a deployment rotates keys."""
    staging = path.with_name(path.name + ".new")
    staging.write_text(json.dumps({"primaryKey": primary, "secondaryKey": secondary}))
    os.replace(staging, path)


def png_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def metric_value(metrics_text: str, sample: str) -> float:
    """The value of one sample line (`name{labels}`) of a Prometheus text page; 0 if absent."""
    for line in metrics_text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0
