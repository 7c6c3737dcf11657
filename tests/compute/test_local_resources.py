"""What a job of a sized local compute gets of this host: its own CPUs with thread counts to
match, GPUs no other job holds, a memory limit; the built-in `local` gets none of it.

The choices are pure functions; the pinning, the variables and the claims other jobs read are
checked on real child processes and on a real job. A GPU cannot exist here: only the GPU
listing (`nvidia-smi`) is a stand-in."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.compute.local import LocalCompute, processes
from modelyard.compute.local.resources import (
    JOB_CPUS_ENV,
    JOB_GPUS_ENV,
    THREAD_COUNT_VARIABLES,
    Placement,
    SizeLimits,
    choose_cpus,
    choose_gpus,
    format_gib,
    free_gpus,
    memory_exceeded_message,
    parse_indexes,
    place,
    script_environment,
)
from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, ProvisioningState, find_size
from modelyard.errors import ComputeUnavailable, InvalidValue
from modelyard.runtime import lifeline
from modelyard.services import computes, jobs
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace

GIB = 2**30

# --- choosing CPUs -------------------------------------------------------------------------


def test_cpus_no_other_job_holds_are_chosen_first() -> None:
    assert choose_cpus(2, range(8), [(0, 1), (2, 3)]) == (4, 5)


def test_cpus_are_the_least_used_when_every_one_is_held() -> None:
    # Another workspace's jobs (its scheduler does not know ours) took everything: share the
    # least busy CPUs rather than wait.
    assert choose_cpus(2, range(4), [(0, 1, 2, 3), (0, 1)]) == (2, 3)


def test_cpus_outside_the_host_are_not_counted_and_never_chosen() -> None:
    assert choose_cpus(1, [2, 3], [(0, 1, 2)]) == (3,)


def test_a_size_larger_than_the_host_gets_all_of_it() -> None:
    assert choose_cpus(12, range(4), []) == (0, 1, 2, 3)


# --- choosing GPUs -------------------------------------------------------------------------


def test_gpus_held_by_running_jobs_are_not_free() -> None:
    assert free_gpus([0, 1, 2, 3], [(1,), (3,)]) == [0, 2]


def test_each_job_gets_distinct_gpus() -> None:
    held: list[tuple[int, ...]] = []
    for _ in range(2):
        held.append(choose_gpus(2, [0, 1, 2, 3], held))
    assert held == [(0, 1), (2, 3)]


def test_a_gpu_is_never_shared_too_few_free_is_an_error_naming_who_holds_them() -> None:
    with pytest.raises(ComputeUnavailable) as raised:
        choose_gpus(2, [0, 1], [(1,)])
    assert raised.value.message == (
        "the job needs 2 GPUs of its own and 1 of this host's 2 are free (GPUs 1 are held by"
        " other jobs, perhaps of another workspace): submit it again when they end"
    )


def test_a_cpu_size_asks_for_no_gpu() -> None:
    assert choose_gpus(0, [], []) == ()
    assert place(SizeLimits("s", 1, GIB), [0, 1], [], []).gpus == ()


def test_placement_is_around_what_others_hold() -> None:
    others = [Placement((0, 1), (0,)), Placement((2,), ())]
    placement = place(SizeLimits("Standard_NC12", 2, GIB, 2), range(6), [0, 1, 2], others)
    assert placement == Placement((3, 4), (1, 2))


# --- what the job starts with ----------------------------------------------------------------


def test_a_placement_sets_thread_counts_to_its_cpus_and_cuda_devices_to_its_gpus() -> None:
    variables = Placement((2, 3), (1, 3)).environment()
    assert {name: variables[name] for name in THREAD_COUNT_VARIABLES} == dict.fromkeys(
        THREAD_COUNT_VARIABLES, "2"
    )
    assert variables["CUDA_VISIBLE_DEVICES"] == "1,3"
    assert (variables[JOB_CPUS_ENV], variables[JOB_GPUS_ENV]) == ("2,3", "1,3")


def test_without_gpus_cuda_visible_devices_is_left_alone() -> None:
    base = {"CUDA_VISIBLE_DEVICES": "7", "PATH": "/bin"}
    environment = script_environment(base, Placement((0,)))
    assert environment["CUDA_VISIBLE_DEVICES"] == "7" and JOB_GPUS_ENV not in environment
    assert environment["OMP_NUM_THREADS"] == "1"


def test_a_claim_inherited_from_whoever_started_the_supervisor_is_dropped() -> None:
    # A job of a sized compute that submits jobs carries its own claim in its variables.
    base = {JOB_CPUS_ENV: "0", JOB_GPUS_ENV: "1", "OMP_NUM_THREADS": "1", "HOME": "/h"}
    assert script_environment(base, None) == {"OMP_NUM_THREADS": "1", "HOME": "/h"}
    assert script_environment(base, Placement((1,)))[JOB_CPUS_ENV] == "1"


def test_a_claim_reads_back_from_an_environment() -> None:
    placement = Placement((0, 5), (2,))
    assert Placement.from_environment(placement.environment()) == placement
    assert Placement.from_environment({"PATH": "/bin"}) is None
    assert Placement.from_environment({JOB_CPUS_ENV: "all of them"}) is None


def test_indexes_parse_or_say_what_is_wrong() -> None:
    assert parse_indexes("0, 2,3") == (0, 2, 3) and parse_indexes("") == ()
    with pytest.raises(InvalidValue, match=r"'0,x' is not a list of CPU or GPU indexes"):
        parse_indexes("0,x")


def test_a_size_travels_as_the_supervisors_arguments() -> None:
    limits = SizeLimits.of(find_size("Standard_DS2_v2"))
    assert limits == SizeLimits("Standard_DS2_v2", 2, 7 * GIB, 0)
    assert limits.to_arguments() == [
        "--size",
        "Standard_DS2_v2",
        "--cpus",
        "2",
        "--memory-limit-bytes",
        str(7 * GIB),
        "--gpus",
        "0",
    ]


def test_the_memory_message_names_use_size_and_remedy() -> None:
    used = int(7.3 * GIB)
    assert memory_exceeded_message("Standard_DS2_v2", used, 7 * GIB) == (
        "the job used 7.3 GiB, more than size Standard_DS2_v2's 7 GiB: choose a larger size"
    )
    assert format_gib(int(3.5 * GIB)) == "3.5" and format_gib(200 * 2**20) == "0.2"


def test_the_lifeline_reads_the_variable_the_supervisor_writes() -> None:
    assert lifeline.JOB_CPUS_ENV == JOB_CPUS_ENV  # lifeline.py imports nothing of ours


# --- real processes ------------------------------------------------------------------------

REPORTS = (
    "import os; print(sorted(os.sched_getaffinity(0)), os.environ.get('OMP_NUM_THREADS'),"
    " os.environ.get('MKL_NUM_THREADS'), flush=True)"
)


def start_through_lifeline(code: str, environment: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-I", "-S", lifeline.__file__, str(os.getpid())]
    return subprocess.Popen(
        [*command, sys.executable, "-c", code], env=environment, stdout=subprocess.PIPE, text=True
    )


def test_a_job_is_pinned_to_its_cpus_with_thread_counts_to_match() -> None:
    last_cpu = processes.host_cpus()[-1]
    environment = script_environment(dict(os.environ), Placement((last_cpu,)))
    child = start_through_lifeline(REPORTS, environment)
    output, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert output.strip() == f"[{last_cpu}] 1 1"


def test_threads_the_job_starts_stay_on_its_cpus() -> None:
    # Pinned before the script's first instruction: every thread inherits the mask.
    code = (
        "import os, threading\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))\n"
        "t.start(); t.join(); print(seen[0])\n"
    )
    environment = script_environment(dict(os.environ), Placement((processes.host_cpus()[0],)))
    child = start_through_lifeline(code, environment)
    output, _ = child.communicate(timeout=60)
    assert output.strip() == f"[{processes.host_cpus()[0]}]"


def test_a_running_jobs_claim_is_seen_by_others_and_ends_with_it() -> None:
    placement = Placement((processes.host_cpus()[0],), (6,))  # a GPU claim is only a variable
    environment = script_environment(dict(os.environ), placement)
    child = start_through_lifeline("import time; time.sleep(600)", environment)
    try:
        assert placement in processes.running_job_placements()
    finally:
        child.kill()
        child.wait(timeout=30)
    assert placement not in processes.running_job_placements()


@pytest.fixture
def fake_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The one stand-in: `nvidia-smi` listing four GPUs."""
    tool = tmp_path / "bin" / "nvidia-smi"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nprintf '0\\n1\\n2\\n3\\n'\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    yield


def test_gpus_are_chosen_among_those_the_host_lists(
    fake_nvidia_smi: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert processes.visible_gpus() == [0, 1, 2, 3]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")  # this process was given two of them
    host_gpus = processes.visible_gpus()
    assert host_gpus == [1, 3]
    others = [Placement((0,), (1,))]
    placement = place(SizeLimits("Standard_NC6", 1, GIB, 1), [0], host_gpus, others)
    assert placement.gpus == (3,) and placement.environment()["CUDA_VISIBLE_DEVICES"] == "3"


# --- a real job on a sized compute ---------------------------------------------------------

PRINTS_ITS_SHARE = """
import os
print("cpus", len(os.sched_getaffinity(0)), "threads", os.environ.get("OMP_NUM_THREADS", "unset"))
"""


def share_printed(ws: OpenWorkspace, tmp_path: Path, compute: str) -> str:
    project = tmp_path / compute
    project.mkdir()
    (project / "share.py").write_text(textwrap.dedent(PRINTS_ITS_SHARE))
    job = ScriptJob(
        experiment="limits", source_directory=project, script="share.py", compute_target=compute
    )
    run = jobs.submit(ws, job)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=120)
    assert final.status is RunStatus.COMPLETED, final.error
    log = (ws.local_artifacts.run_root(run.id) / STD_LOG).read_text()
    return next(line for line in log.splitlines() if line.startswith("cpus"))


def test_a_job_on_a_one_cpu_size_runs_on_one_cpu_with_one_thread(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    created = computes.create_compute(
        sqlite_workspace, ComputeRequest("one-cpu", size="Standard_DS1_v2")
    )
    assert created.state is ProvisioningState.SUCCEEDED, created.errors
    assert share_printed(sqlite_workspace, tmp_path, "one-cpu") == "cpus 1 threads 1"


def test_a_job_on_the_built_in_local_compute_is_not_limited(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    threads = os.environ.get("OMP_NUM_THREADS", "unset")  # what it inherits, as before
    host = len(os.sched_getaffinity(0))
    assert LocalCompute().capacity().cpus == host
    assert share_printed(sqlite_workspace, tmp_path, "local") == f"cpus {host} threads {threads}"


HOLDS_ITS_CPUS = """
import os, sys, time
from pathlib import Path
print("on cpus", sorted(os.sched_getaffinity(0)), flush=True)
release = Path(sys.argv[1])
deadline = time.monotonic() + 300
while not release.exists() and time.monotonic() < deadline:
    time.sleep(0.1)
"""


def test_jobs_running_at_once_get_cpus_of_their_own(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    if len(processes.host_cpus()) < 2:
        pytest.skip("two one-CPU jobs need a host with two CPUs")
    computes.create_compute(ws, ComputeRequest("two-jobs", size="Standard_DS1_v2", max_nodes=2))
    project = tmp_path / "project"
    project.mkdir()
    (project / "hold.py").write_text(textwrap.dedent(HOLDS_ITS_CPUS))
    release = tmp_path / "release"
    job = ScriptJob(
        experiment="limits",
        source_directory=project,
        script="hold.py",
        arguments=(str(release),),
        compute_target="two-jobs",
    )
    started = [jobs.submit(ws, job) for _ in range(2)]
    try:
        held = [wait_for_cpus(ws, run.id) for run in started]
    finally:
        release.touch()
    assert len(held[0]) == len(held[1]) == 1 and held[0] != held[1]
    for run in started:
        final = jobs.wait_for_completion(ws, run.id, timeout_s=120)
        assert final.status is RunStatus.COMPLETED, final.error


def wait_for_cpus(ws: OpenWorkspace, run_id: str) -> list[int]:
    log = ws.local_artifacts.run_root(run_id) / STD_LOG
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if log.exists() and "on cpus" in log.read_text():
            return json.loads(log.read_text().split("on cpus", 1)[1].splitlines()[0])  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never said which CPUs it runs on")
