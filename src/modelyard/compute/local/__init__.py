"""The `local` compute type: each run is a supervisor subprocess in its own session and process
group on this host. A sized compute's jobs get their size's CPUs, memory and GPUs of this host
(`resources.py`): the size travels as the supervisor's arguments, which applies it."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from modelyard.compute.base import BackendState, Capacity, LaunchRequest, ProcessHandle
from modelyard.compute.local import processes
from modelyard.compute.local.resources import SizeLimits
from modelyard.entities.compute import ComputeTarget
from modelyard.errors import ComputeUnavailable

# Started by a short-lived middle process, the supervisor belongs to no launcher's process
# tree: a job that submits jobs (a sweep's driver) is their launcher, and stopping its tree
# (a cancel) must not stop theirs. In a session and process group of its own, it outlives the
# submitting shell, and a cancel signals its group.
_DETACHED_START = (
    "import subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2,"
    " start_new_session=True, close_fds=True)\n"
    "print(child.pid)\n"
)
_START_TIMEOUT_S = 60.0


class LocalCompute:
    name = "local"

    def __init__(self, compute: ComputeTarget | None = None) -> None:
        self.compute = compute

    def capacity(self) -> Capacity:
        return processes.host_capacity()

    def launch(self, request: LaunchRequest) -> str:
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "modelyard.runtime.supervisor",
            "--workspace",
            str(request.workspace_root),
            "--run-id",
            request.run_id,
        ]
        if request.size is not None:  # the built-in `local` has none: its jobs are not limited
            command += SizeLimits.of(request.size).to_arguments()
        with open(request.log_path, "ab") as log:
            pid = _start_detached(command, log.fileno(), request.environment)
        try:
            return processes.handle_for(pid).to_string()
        except psutil.Error:
            raise ComputeUnavailable(
                f"the run's supervisor (pid {pid}) exited as soon as it started: see"
                f" {request.log_path}",
                run_id=request.run_id,
            ) from None

    def state(self, handle: str) -> BackendState:
        gone = processes.is_gone(ProcessHandle.parse(handle))
        if gone is None:
            return BackendState.UNKNOWN
        return BackendState.GONE if gone else BackendState.RUNNING

    def cancel(self, handle: str, grace_s: float) -> bool:
        return processes.stop_process_tree(ProcessHandle.parse(handle), grace_s)

    def read_log(self, handle: str) -> str | None:
        return None


def _start_detached(command: list[str], log_fd: int, environment: dict[str, str]) -> int:
    """Start `command` with its output to `log_fd` and `environment` added to this process's,
    as a child of nobody here; its pid."""
    try:
        started = subprocess.run(
            [sys.executable, "-c", _DETACHED_START, *command],
            stdin=subprocess.DEVNULL,
            env={**os.environ, **environment},
            stdout=subprocess.PIPE,
            stderr=log_fd,
            close_fds=True,
            timeout=_START_TIMEOUT_S,
            check=True,
        )
        return int(started.stdout)
    except (subprocess.SubprocessError, ValueError) as error:
        raise ComputeUnavailable(f"could not start the run's supervisor: {error}") from error


__all__ = ["LocalCompute"]
