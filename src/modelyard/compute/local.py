"""The `local` compute: each run is a supervisor subprocess in its own session and process group."""

from __future__ import annotations

import subprocess
import sys

from modelyard.compute import processes
from modelyard.compute.base import LaunchRequest, ProcessHandle


class LocalCompute:
    name = "local"

    def launch(self, request: LaunchRequest) -> ProcessHandle:
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
        with open(request.log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Outlives the submitting shell; cancel signals its group.
                close_fds=True,
            )
        return processes.handle_for(process.pid)

    def cancel(self, handle: ProcessHandle, grace_s: float) -> bool:
        return processes.stop_process_tree(handle, grace_s)

    def is_gone(self, handle: ProcessHandle) -> bool | None:
        return processes.is_gone(handle)
