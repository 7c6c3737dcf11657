"""kill -9 of a job's supervisor at each step of the job's life: the run never stays active,
nothing it started survives, its working copy goes, and no half-written artifact is visible.
Steps that are long by nature here: Preparing (an environment being built), Running, and
Finalizing (a large `outputs/` being uploaded)."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from modelyard.entities import RunStatus
from modelyard.environments import Environment
from modelyard.services import jobs, leftovers, runs
from modelyard.services.jobs import ScriptJob
from modelyard.services.workspaces import OpenWorkspace
from run_processes import pid_of

WRITES_LARGE_OUTPUTS = """
import os, time
with open("outputs/weights.bin", "wb") as handle:
    for _ in range(400):
        handle.write(os.urandom(1024 * 1024))
time.sleep({sleep_s})
"""


def _job(tmp_path: Path, sleep_s: float, **overrides: object) -> ScriptJob:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(textwrap.dedent(WRITES_LARGE_OUTPUTS.format(sleep_s=sleep_s)))
    return ScriptJob(
        experiment="kill-steps", source_directory=project, script="train.py", **overrides
    )  # type: ignore[arg-type]


def _kill_supervisor_at(ws: OpenWorkspace, run_id: str, step: RunStatus) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = ws.store.get_run(run_id)
        if run.status is step and pid_of(run) is not None:
            os.kill(pid_of(run), signal.SIGKILL)
            return
        assert not run.status.is_terminal, f"the run ended ({run.status}) before {step}"
        time.sleep(0.005)
    raise AssertionError(f"the run never reached {step}")


def _ended(ws: OpenWorkspace, run_id: str) -> RunStatus:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs.reap_dead_runs(ws)
        status = ws.store.get_run(run_id).status
        if status.is_terminal:
            return status
        time.sleep(0.2)
    raise AssertionError("the run is still active a minute after its supervisor died")


@pytest.mark.parametrize("step", [RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.FINALIZING])
def test_kill_9_of_the_supervisor_at_each_step_leaves_nothing_behind(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, step: RunStatus
) -> None:
    ws = sqlite_workspace
    overrides: dict[str, object] = {}
    if step is RunStatus.PREPARING:  # a real environment build: seconds in Preparing
        requirements = tmp_path / "requirements.txt"
        requirements.write_text("# nothing beyond the host's packages\n")
        overrides["environment"] = Environment.from_pip_requirements("empty", requirements)
    run = jobs.submit(ws, _job(tmp_path, 5 if step is RunStatus.RUNNING else 0, **overrides))
    supervisor = psutil.Process(pid_of(ws.store.get_run(run.id)) or 0)
    _kill_supervisor_at(ws, run.id, step)
    assert _ended(ws, run.id) is RunStatus.FAILED
    session = supervisor.pid
    leftover = [p for p in psutil.process_iter() if _session_of(p) == session and _alive(p)]
    assert leftover == []
    assert not leftovers.working_copy(ws, run.id).exists()
    artifacts = [info.path for info in ws.artifacts.list(run.id)]
    assert not [path for path in artifacts if ".tmp-" in path]
    # An output is either whole or absent, never partial.
    sizes = {info.path: info.size for info in ws.artifacts.list(run.id)}
    assert sizes.get("outputs/weights.bin", 400 * 1024 * 1024) == 400 * 1024 * 1024


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE  # a zombie is dead, awaiting its reaper
    except psutil.NoSuchProcess:
        return False


def _session_of(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None
