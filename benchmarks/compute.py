"""Compute targets under load: the scheduler's latency and throughput, and what a preemption
costs when the job resumes from its checkpoint against restarting it from scratch (Azure).

    .venv/bin/python benchmarks/compute.py [--jobs 200] [--max-nodes 2]
                                           [--ray-address http://127.0.0.1:8265]

In a temporary workspace (SQLite, `MODELYARD_HOME` there too):

- **local**: a local compute (`--size`, `--max-nodes`) and `--jobs` short script jobs submitted
  back to back (`services.jobs.submit`, as `modelyard job submit` does): the time to submit
  each, the latency from submit to its supervisor starting it (Preparing) and to the script
  running, and the throughput from the first submit to the last job's end.
- **ray** (with `--ray-address`, a running Ray head's dashboard): the same jobs on a Ray compute
  through a real `modelyard server` process on 127.0.0.1, submitted over HTTP.
- **preemption**: a job of `--steps` steps of `--step-seconds` on a low-priority compute,
  preempted on demand after `--preempt-at` steps; measured from the preempt call to the job
  logging the step after the one it had reached: resuming from its checkpoint (Modelyard) and
  restarting from step 0 (what Azure does with a preempted job), and their ratio.

A benchmark, not a test: timings are printed, never asserted; each job's end is checked.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelyard.entities import Run
    from modelyard.services.workspaces import OpenWorkspace

SHORT_JOB = "print('hello from a short job')\n"
# One step per `step_seconds`, a checkpoint after each; `fresh` ignores checkpoints (Azure).
STEPPING_JOB = """
import json, sys, time
from modelyard import Run

run = Run.get_context()
state = run.checkpoint_dir / "state.json"
fresh = sys.argv[3] == "fresh"
step = 0 if fresh or not state.exists() else json.loads(state.read_text())["next"]
while step < int(sys.argv[1]):
    time.sleep(float(sys.argv[2]))
    run.log("step", step, step=step)
    run.flush()
    step += 1
    state.write_text(json.dumps({"next": step}))
    if run.stop_requested:
        sys.exit(0)
"""


@dataclass(frozen=True)
class Timings:
    submit_ms: list[float]
    to_preparing_s: list[float]
    total_s: float
    jobs: int

    def rows(self, label: str) -> list[tuple[str, str]]:
        return [
            (f"{label}: submit, ms per job (median, p95)", _median_p95(self.submit_ms, "{:.0f}")),
            (
                f"{label}: submit → started (queue included), s (median, p95)",
                _median_p95(self.to_preparing_s, "{:.2f}"),
            ),
            (f"{label}: throughput, jobs/s", f"{self.jobs / self.total_s:.2f}"),
        ]


def _median_p95(values: list[float], form: str) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{form.format(statistics.median(ordered))} ({form.format(p95)})"


def _project(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.py").write_text(textwrap.dedent(script))
    return folder


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"benchmark: gave up waiting for {what} after {timeout_s:.0f} s")
        time.sleep(0.05)


def run_jobs(
    ws: OpenWorkspace, compute: str, project: Path, jobs: int, timeout_s: float
) -> Timings:
    from modelyard.services import jobs as job_service
    from modelyard.services.jobs import ScriptJob

    submitted: list[Run] = []
    submit_ms = []
    began = time.monotonic()
    for _ in range(jobs):
        job = ScriptJob("bench", project, "job.py", compute_target=compute)
        start = time.perf_counter()
        submitted.append(job_service.submit(ws, job))
        submit_ms.append((time.perf_counter() - start) * 1000)
    ended = []
    for run in submitted:
        final = job_service.wait_for_completion(ws, run.id, timeout_s=timeout_s)
        if final.status.value != "Completed":
            raise SystemExit(f"benchmark: job {run.id} ended {final.status.value}: {final.error}")
        ended.append(final)
    total = time.monotonic() - began
    latencies = [
        (run.started_at - run.created_at).total_seconds() for run in ended if run.started_at
    ]
    return Timings(submit_ms, latencies, total, jobs)


def preemption_cost(
    ws: OpenWorkspace, project: Path, steps: int, step_s: float, at: int, mode: str
) -> float:
    """Seconds from the preempt call to the job logging a step past the last it had logged."""
    from modelyard.services import computes, jobs
    from modelyard.services.jobs import ScriptJob

    arguments = (str(steps), str(step_s), mode)
    run = jobs.submit(ws, ScriptJob("preempt", project, "job.py", arguments, "cheap"))

    def logged() -> int:
        return len(ws.store.get_metric_history(run.id, "step"))

    _wait(lambda: logged() >= at, 300, f"step {at}")
    preempted_at = time.monotonic()
    computes.preempt(ws, "cheap")
    # The first attempt logs on until its supervisor's next heartbeat stops it: the step to
    # pass is the last it logged, known once the run is queued again.
    _wait(lambda: ws.store.get_run(run.id).attempt >= 2, 300, "the requeue")
    reached = max(point.step for point in ws.store.get_metric_history(run.id, "step"))
    # A fresh start logs steps 0… again (a job's run keeps each step's first value): the
    # first new step is past the one reached.
    _wait(lambda: logged() > reached + 1, 600, "the job to pass the step it had reached")
    cost = time.monotonic() - preempted_at
    final = jobs.wait_for_completion(ws, run.id, timeout_s=600)
    if final.status.value != "Completed":
        raise SystemExit(f"benchmark: preempted job ended {final.status.value}: {final.error}")
    return cost


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--size", default="Standard_DS1_v2")
    parser.add_argument("--max-nodes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--step-seconds", type=float, default=0.25)
    parser.add_argument("--preempt-at", type=int, default=20)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--timeout", type=float, default=600.0)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="modelyard-bench-compute-") as scratch:
        root = Path(scratch)
        os.environ["MODELYARD_HOME"] = str(root / "home")
        os.environ.setdefault("MODELYARD_HEARTBEAT_INTERVAL_S", "1")
        from modelyard.entities.compute import ComputeRequest, Priority
        from modelyard.services import computes
        from modelyard.services.workspaces import create_workspace

        ws = create_workspace("bench-compute", path=root / "ws")
        rows: list[tuple[str, str]] = []
        try:
            pool = computes.create_compute(
                ws, ComputeRequest("pool", size=options.size, max_nodes=options.max_nodes)
            )
            if pool.errors:
                raise SystemExit(f"benchmark: compute pool failed: {pool.errors[-1]}")
            short = _project(root / "short", SHORT_JOB)
            timings = run_jobs(ws, "pool", short, options.jobs, options.timeout)
            rows += timings.rows(f"local ({options.max_nodes} nodes)")
            if options.ray_address:
                rows += ray_rows(root, options)

            computes.create_compute(
                ws, ComputeRequest("cheap", size="Standard_DS1_v2", priority=Priority.LOW_PRIORITY)
            )
            stepping = _project(root / "stepping", STEPPING_JOB)
            arguments = (ws, stepping, options.steps, options.step_seconds, options.preempt_at)
            resumed = preemption_cost(*arguments, mode="resume")
            fresh = preemption_cost(*arguments, mode="fresh")
            rows += [
                ("preemption → past the step reached, resumed, s", f"{resumed:.2f}"),
                ("the same, restarted from scratch (Azure), s", f"{fresh:.2f}"),
                ("resuming ahead of restarting, ×", f"{fresh / resumed:.1f}"),
            ]
        finally:
            ws.close()
    print("Modelyard compute targets")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()}")
    print(f"{options.jobs} short jobs; preemption at step {options.preempt_at} of {options.steps}")
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        print(f"{label:<{width}}{value:>16}")


def ray_rows(root: Path, options: argparse.Namespace) -> list[tuple[str, str]]:
    """The same short jobs on a Ray compute, through a real `modelyard server` process."""
    from modelyard.entities.compute import ComputeRequest, ComputeType
    from modelyard.services import computes
    from modelyard.services.remote import open_remote_workspace

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "modelyard.cli.main", "server", "-w", str(root / "ws")),
                *("--host", "127.0.0.1", "--port", str(port)),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Auth on, as a shared server runs: the admin token it prints on its first start.
        _wait(lambda: "myd_" in log.read_text() and _answers(url), 120, "the server")
        token = re.search(r"(myd_\S+)", log.read_text())
        assert token is not None
        client = open_remote_workspace(url, token.group(1))
        compute = computes.create_compute(
            client,
            ComputeRequest(
                "ray-pool",
                type=ComputeType.RAY,
                address=options.ray_address,
                size=options.size,
                max_nodes=options.max_nodes,
            ),
        )
        if compute.errors:
            raise SystemExit(f"benchmark: ray compute failed: {compute.errors[-1]}")
        short = _project(root / "short", SHORT_JOB)
        timings = run_jobs(client, "ray-pool", short, options.jobs, options.timeout)
        return timings.rows(f"ray ({options.max_nodes} nodes)")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/api/v1/workspace", timeout=2).status_code in (200, 401)
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
