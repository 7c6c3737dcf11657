"""The memory limit of a job on a sized local compute: real processes that allocate real memory,
against a limit (200 MiB) far below any catalog size, which the test gives the watch and the
supervisor directly, as `--memory-limit-bytes` carries it."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from modelyard.compute.local.memory_watch import MemoryWatch
from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import ComputeRequest
from modelyard.entities.scheduling import SchedulingPlan
from modelyard.fileio import write_json_atomic
from modelyard.services import computes, jobs
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import JOB_SPEC, SUPERVISOR_LOG
from modelyard.services.workspaces import OpenWorkspace

LIMIT = 200 * 2**20
USED = r"the job used (\d+(\.\d+)?) GiB, more than size tiny's 0\.2 GiB: choose a larger size"

# Grows by 20 MiB (pages really touched) every 50 ms up to 1 GiB, then waits to be killed.
GROWS = """
import time
held = []
for _ in range(50):
    held.append(b"x" * (20 * 2**20))
    time.sleep(0.05)
print("grew to 1 GiB unchecked", flush=True)
time.sleep(600)
"""

# The memory is a child's: the whole tree counts, and the whole tree is killed.
CHILD_GROWS = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {GROWS!r}])
print(child.pid, flush=True)
child.wait()
time.sleep(600)
"""

STAYS_SMALL = "import time; block = b'x' * (10 * 2**20); time.sleep(1.5)"


def python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )


def test_a_job_over_its_memory_is_killed_with_one_clear_line() -> None:
    job = python(GROWS)
    watch = MemoryWatch(job.pid, LIMIT, "tiny", interval_s=0.1).start()
    try:
        assert job.wait(timeout=120) == -9
    finally:
        watch.stop()
        job.kill()
    assert watch.exceeded is not None
    assert re.fullmatch(USED, watch.exceeded), watch.exceeded
    assert float(watch.exceeded.split()[3]) > 0.19  # what it used, in GiB: over the limit


def test_the_whole_process_tree_counts_and_is_killed() -> None:
    job = python(CHILD_GROWS)
    assert job.stdout is not None
    child = psutil.Process(int(job.stdout.readline()))
    watch = MemoryWatch(job.pid, LIMIT, "tiny", interval_s=0.1).start()
    try:
        assert job.wait(timeout=120) == -9
        assert not psutil.wait_procs([child], timeout=30)[1]
    finally:
        watch.stop()
        job.kill()
        with contextlib.suppress(psutil.Error):
            child.kill()
    assert watch.exceeded is not None


def test_a_job_within_its_memory_runs_to_its_end() -> None:
    job = python(STAYS_SMALL)
    watch = MemoryWatch(job.pid, LIMIT, "tiny", interval_s=0.1).start()
    assert job.wait(timeout=120) == 0
    watch.stop()
    assert watch.exceeded is None


def admitted_run(ws: OpenWorkspace, project: Path, compute: str) -> Run:
    """A run admitted (Starting) but not launched: the test starts its supervisor itself, with
    a memory limit smaller than any size's. `jobs.submit` would launch it at once."""
    job = ScriptJob(
        experiment="limits", source_directory=project, script="grow.py", compute_target=compute
    )
    run = ws.store.create_run("limits", user="u", compute_target=compute)
    run_root = ws.local_artifacts.run_root(run.id)
    job.stage(run_root / "snapshot")
    write_json_atomic(run_root / JOB_SPEC, job.to_spec())
    ws.store.transition_run(run.id, RunStatus.QUEUED)
    ws.compute_store.schedule(lambda _state: SchedulingPlan(admit=[run.id]))
    return ws.store.get_run(run.id)


def test_a_run_over_its_sizes_memory_fails_with_the_reason(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    computes.create_compute(ws, ComputeRequest("tiny-pool", size="Standard_DS1_v2"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "grow.py").write_text(textwrap.dedent(GROWS))
    run = admitted_run(ws, project, "tiny-pool")
    assert run.status is RunStatus.STARTING
    supervisor_command = [sys.executable, "-m", "modelyard.runtime.supervisor"]
    supervisor_command += ["--workspace", str(ws.root), "--run-id", run.id]
    supervisor_command += ["--size", "tiny", "--cpus", "1", "--memory-limit-bytes", str(LIMIT)]
    log = ws.local_artifacts.run_root(run.id) / SUPERVISOR_LOG
    log.parent.mkdir(parents=True, exist_ok=True)  # as LocalCompute.launch does
    with open(log, "wb") as output:
        supervisor = subprocess.run(
            supervisor_command,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=240,
        )
    assert supervisor.returncode == 0, log.read_text()
    final = jobs.wait_for_completion(ws, run.id, timeout_s=60)
    assert final.status is RunStatus.FAILED
    assert final.error is not None
    assert re.fullmatch(USED, final.error), final.error
    assert "size tiny: CPUs" in log.read_text()  # what it was given, in the supervisor's log
