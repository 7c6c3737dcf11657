"""The processes behind a local endpoint: its replicas (`python -m modelyard.serving`) and its
host (`python -m modelyard.runtime.endpoint_host`: the front that checks keys and routes, and
the supervisor that restarts a dead replica).

Every one is started detached (its own session, so it outlives the CLI that started it and a
Ctrl-C in that terminal), logs to a file under `<workspace>/endpoints/<name>/logs/`, and is
recorded by its handle (pid + start time), which is how it is found and stopped again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from modelyard.compute.local.processes import (
    find_process,
    handle_for,
    host_cpus,
    stop_process_tree,
)
from modelyard.compute.local.resources import format_indexes
from modelyard.entities.endpoints import RoutedReplica
from modelyard.entities.process import ProcessHandle
from modelyard.errors import Conflict, DeploymentFailed, InvalidValue
from modelyard.serving.limits import replica_cpus

READY_TIMEOUT_S: Final = 120.0
LOOPBACK: Final = "127.0.0.1"
WILDCARD_HOSTS: Final = ("0.0.0.0", "::", "")
PREFLIGHT_TIMEOUT_S: Final = 300.0
STOP_GRACE_S: Final = 10.0
LOG_TAIL_CHARS: Final = 4000


@dataclass(frozen=True)
class ReplicaSpec:
    """What every replica of one deployment runs."""

    model_dir: Path
    entry_script: str | None
    source_directory: str | None
    keys_file: Path
    python: str = sys.executable
    cpu_cores: float = 1.0
    memory_gb: float = 1.0

    def argv(self, port: int, index: int) -> list[str]:
        """Replica `index`'s command: on `port`, pinned to its share of the host's CPUs."""
        argv = [self.python, "-m", "modelyard.serving", "--model-dir", str(self.model_dir)]
        argv += self._script_args()
        cpus = replica_cpus(self.cpu_cores, index, host_cpus())
        if cpus is not None:
            argv += ["--cpus", format_indexes(cpus)]
        return [
            *argv,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--keys-file",
            str(self.keys_file),
        ]

    def preflight_argv(self) -> list[str]:
        base = [self.python, "-m", "modelyard.serving", "--model-dir", str(self.model_dir)]
        return [*base, *self._script_args(), "--preflight"]

    def _script_args(self) -> list[str]:
        args: list[str] = ["--memory-gb", str(self.memory_gb)]
        if self.entry_script:
            args += ["--entry-script", self.entry_script]
        if self.source_directory:
            args += ["--source-directory", self.source_directory]
        return args


@dataclass(frozen=True)
class PreflightOutcome:
    ok: bool
    message: str
    traceback: str | None


def run_preflight(spec: ReplicaSpec, sample: bytes | None = None) -> PreflightOutcome:
    """init() and one sample request in a fresh process of the target environment."""
    argv = spec.preflight_argv()
    if sample is not None:
        sample_file = spec.keys_file.parent / "preflight-sample"
        sample_file.write_bytes(sample)
        argv += ["--sample", str(sample_file)]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PREFLIGHT_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return PreflightOutcome(False, f"preflight took over {PREFLIGHT_TIMEOUT_S:.0f} s", None)
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = done.stderr.strip()[-LOG_TAIL_CHARS:]
        return PreflightOutcome(False, (tail.splitlines() or ["preflight failed"])[-1], tail)
    return PreflightOutcome(bool(result["ok"]), str(result["message"]), result.get("traceback"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        _bind(probe, host, 0)
        return int(probe.getsockname()[1])


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            _bind(probe, host, port)
        except OSError:
            raise Conflict(
                f"port {port} on {host} is in use; fix: pick another --port or stop what holds it",
                port=port,
            ) from None


def _bind(probe: socket.socket, host: str, port: int) -> None:
    """Bind, telling a host this machine cannot listen on (the `endpoint_listen_host` setting
    mistyped) from a port in use."""
    try:
        socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        raise InvalidValue(
            f"cannot listen on host {host!r}: not an address of this machine; fix the"
            " endpoint_listen_host setting (127.0.0.1, or 0.0.0.0 for every interface)",
            host=host,
        ) from None
    probe.bind((host, port))


def start_detached(argv: Sequence[str], log: Path) -> ProcessHandle:
    """A process in its own session, its output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=log.parent,  # not the caller's folder, which may be gone long before it
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return handle_for(process.pid)


def start_replica(replica: RoutedReplica) -> RoutedReplica:
    handle = start_detached(replica.argv, Path(replica.log))
    return RoutedReplica(
        replica.deployment,
        replica.index,
        replica.port,
        handle.to_string(),
        replica.argv,
        replica.log,
    )


def wait_ready(replica: RoutedReplica, key: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Until the replica (or a Ray Serve application, through Serve's proxy) answers
    /health/ready; DeploymentFailed with its log's tail if it dies or the time is up."""
    url = f"{replica.base_url}/health/ready"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if replica.supervised and not is_running(replica.handle):
            raise DeploymentFailed(
                f"replica {replica.index} of deployment {replica.deployment} exited before it "
                f"was ready:\n{log_tail(Path(replica.log))}"
            )
        try:
            if httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DeploymentFailed(
        f"replica {replica.index} of deployment {replica.deployment} was not ready in "
        f"{timeout_s:.0f} s:\n{log_tail(Path(replica.log))}"
    )


def is_running(handle: str) -> bool:
    return find_process(ProcessHandle.parse(handle)) is not None


def stop(handle: str | None) -> None:
    if handle:
        stop_process_tree(ProcessHandle.parse(handle), STOP_GRACE_S)


def log_tail(log: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def wait_host(host: str, port: int, handle: str, log: Path, timeout_s: float = 30.0) -> None:
    """Until the endpoint's front, listening on `host`, answers its liveness route."""
    reach = LOOPBACK if host in WILDCARD_HOSTS else f"[{host}]" if ":" in host else host
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_running(handle):
            raise DeploymentFailed(f"the endpoint's front on port {port} exited:\n{log_tail(log)}")
        try:
            if httpx.get(f"http://{reach}:{port}/", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise DeploymentFailed(f"the endpoint's front on port {port} did not start:\n{log_tail(log)}")
