"""The `local` compute type: each run is a supervisor subprocess in its own session and process
group on this host. A sized compute's jobs get their size's CPUs, memory and GPUs of this host
(`resources.py`): the size travels as the supervisor's arguments, which applies it."""

from __future__ import annotations

import subprocess
import sys

from modelyard.compute.base import BackendState, Capacity, LaunchRequest, ProcessHandle
from modelyard.compute.local import processes
from modelyard.compute.local.resources import SizeLimits
from modelyard.entities.compute import ComputeTarget


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
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Outlives the submitting shell; cancel signals its group.
                close_fds=True,
            )
        return processes.handle_for(process.pid).to_string()

    def state(self, handle: str) -> BackendState:
        gone = processes.is_gone(ProcessHandle.parse(handle))
        if gone is None:
            return BackendState.UNKNOWN
        return BackendState.GONE if gone else BackendState.RUNNING

    def cancel(self, handle: str, grace_s: float) -> bool:
        return processes.stop_process_tree(ProcessHandle.parse(handle), grace_s)

    def read_log(self, handle: str) -> str | None:
        return None


__all__ = ["LocalCompute"]
