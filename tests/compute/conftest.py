"""One real Ray head for the whole test session (about 630 MB of memory: never one per test).

`ray start --head --block` runs as a child in a session and process group of its own, on free
ports and with its temporary folder under the test session's; its workers use this Python, so
Modelyard (these sources, through PYTHONPATH) imports in them. Teardown kills that process group
and then whatever else of it is left: its workers move to process groups of their own and a
job's entrypoint to a session of its own, so every descendant is listed before the kill. Never
`ray stop` (it would stop every Ray head of this user), never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

import modelyard
from modelyard.extras import is_installed

HEAD_START_TIMEOUT_S = 120
HEAD_STOP_GRACE_S = 5


@dataclass(frozen=True)
class RayHead:
    address: str  # the dashboard's URL: what a ray compute's --address names
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    if not is_installed("ray"):
        reason = "the 'ray' extra is not installed: pip install -e '.[ray]'"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    with started_ray_head(Path(tmp_path_factory.mktemp("ray")), "session") as head:
        yield head


@contextlib.contextmanager
def started_ray_head(folder: Path, label: str) -> Iterator[RayHead]:
    """A Ray head of its own (2 CPUs, free ports), stopped with everything it started when the
    block ends; `label` tells its temporary folder apart from other heads of this session."""
    # Ray's socket paths must stay under 107 bytes: a short folder of its own.
    folder.mkdir(parents=True, exist_ok=True)
    temp_dir = Path(f"/tmp/myd-ray-{os.getpid()}-{label}")
    head = _start_head(folder, temp_dir)
    try:
        _wait_until_answering(head)
        yield head
    finally:
        _stop_head(head.process)
        shutil.rmtree(temp_dir, ignore_errors=True)


def head_members(head: RayHead) -> list[psutil.Process]:
    """Every process of the head now: its group's, its workers' and its jobs' entrypoints'."""
    return _descendants(head.process.pid) + _session_members(head.process.pid)


def _start_head(folder: Path, temp_dir: Path) -> RayHead:
    ports = _free_ports(6)
    dashboard_port = ports[1]
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--head",
        "--num-cpus=2",
        "--num-gpus=0",
        "--dashboard-host=127.0.0.1",
        f"--port={ports[0]}",
        f"--dashboard-port={dashboard_port}",
        f"--ray-client-server-port={ports[2]}",
        f"--dashboard-agent-listen-port={ports[3]}",
        f"--runtime-env-agent-port={ports[4]}",
        f"--metrics-export-port={ports[5]}",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        "--block",
    ]
    log = folder / "head.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_head_environment(folder),
            start_new_session=True,  # its own session and group: stopped by that group alone
        )
    return RayHead(f"http://127.0.0.1:{dashboard_port}", process, log)


def _head_environment(folder: Path) -> dict[str, str]:
    """This venv first on PATH (the `python` of a job's entrypoint), these sources first on
    PYTHONPATH, a Modelyard home of its own, and none of a test's job variables."""
    sources = Path(modelyard.__file__).parents[1]
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("MODELYARD_")
    }
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(sources), os.environ.get("PYTHONPATH", "")) if part
    )
    environment["MODELYARD_HOME"] = str(folder / "modelyard-home")
    environment["RAY_USAGE_STATS_ENABLED"] = "0"
    return environment


def _wait_until_answering(head: RayHead) -> None:
    """Until the Jobs API answers (the dashboard comes up after the head's other parts) and
    the state API lists the head's node alive (what provisioning a compute checks)."""
    deadline = time.monotonic() + HEAD_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if head.process.poll() is not None:
            raise RuntimeError(f"ray start exited: {head.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            jobs_api = httpx.get(f"{head.address}/api/jobs/", timeout=2)
            if jobs_api.status_code == 200 and _has_a_live_node(head.address):
                return
        time.sleep(0.5)
    raise RuntimeError(f"the Ray head did not answer in time: {head.log.read_text()[-3000:]}")


def _has_a_live_node(address: str) -> bool:
    from ray.util.state import list_nodes
    from ray.util.state.exception import RayStateApiException

    try:
        nodes = list_nodes(address=address, timeout=5, raise_on_missing_output=False)
    except RayStateApiException:
        return False
    return any(node.state == "ALIVE" for node in nodes)


def _stop_head(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group, SIGKILL it after a grace, then every process of it that left
    the group (workers) or the session (jobs' entrypoints); nothing of it outlives the tests."""
    members = _descendants(process.pid) + _session_members(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=HEAD_STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    members += _descendants(process.pid) + _session_members(process.pid)
    for member in members:
        with contextlib.suppress(psutil.Error):
            member.kill()
    process.wait(timeout=30)
    _, alive = psutil.wait_procs(members, timeout=30)
    left = [member for member in alive if _is_alive(member)]
    assert not left, f"the Ray head left processes behind: {left}"


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def _session_members(session_id: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if process.pid != session_id and os.getsid(process.pid) == session_id:
                members.append(process)
    return members


def _is_alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _free_ports(count: int) -> list[int]:
    """Ports free now, all different (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            sockets.append(listener)
        return [listener.getsockname()[1] for listener in sockets]
    finally:
        for listener in sockets:
            listener.close()
