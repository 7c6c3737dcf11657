"""Script jobs on local compute: real subprocesses, real process groups, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from pathlib import Path

import psutil
import pytest

from modelyard.entities import RunStatus
from modelyard.environments import Environment
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import jobs, leftovers, runs
from modelyard.services.jobs import ScriptJob
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace
from polling import wait_for
from run_processes import pid_of

TRAIN = """
import sys
from modelyard import Run

run = Run.get_context()
run.log_params({"lr": sys.argv[1]})
for step in range(5):
    run.log("loss", 1.0 / (step + 1))
open("outputs/model.txt", "w").write("weights")
print("trained with", sys.argv[1])
"""

SPAWNS_AND_SLEEPS = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open("child.pid", "w").write(str(child.pid))
print("child", child.pid, flush=True)
time.sleep(600)
"""

LOGS_IN_A_LOOP = """
import itertools, subprocess, sys, time
from modelyard import Run

worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("worker", worker.pid, flush=True)
run = Run.get_context()
for step in itertools.count():
    run.log("loss", 1.0 / (step + 1), step=step)
    time.sleep(0.01)
"""

FAILS = """
print("about to fail")
raise SystemExit("the data is bad")
"""

SAYS_WHY_IT_FAILED = """
import sys
from modelyard import Run

run = Run.get_context()
run.log("rows", 0.0)
run.fail("the labels file is empty: add one row per image")
print("cleaning up")
sys.exit(int(sys.argv[1]))
"""

DIES_OF_AN_EXCEPTION = """
import sys
from modelyard import Run

run = Run.get_context()
if sys.argv[1] == "with-reason":
    run.fail("the schema changed")
raise ValueError("bad row 7")
"""


def write_project(folder: Path, script: str, name: str = "train.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(script))
    (folder / ".gitignore").write_text("data/\n")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "big.bin").write_bytes(b"x" * 1000)
    return folder


def job(folder: Path, *arguments: str, **overrides: object) -> ScriptJob:
    fields: dict[str, object] = {
        "experiment": "jobs",
        "source_directory": folder,
        "script": "train.py",
        "arguments": arguments,
    }
    fields.update(overrides)
    return ScriptJob(**fields)  # type: ignore[arg-type]


def test_job_runs_to_completion_with_logs_metrics_outputs_and_snapshot(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", TRAIN)
    run = jobs.submit(workspace, job(project, "0.1"))
    # Admitted at once (the built-in local compute has no node limit) and launched.
    assert run.status is RunStatus.STARTING and pid_of(run) is not None
    log = "".join(jobs.follow_log(workspace, run.id))
    final = workspace.store.get_run(run.id)
    assert final.status is RunStatus.COMPLETED, final.error
    assert "trained with 0.1" in log
    assert [m.value for m in workspace.store.get_metric_history(run.id, "loss")] == [
        1.0 / (s + 1) for s in range(5)
    ]
    assert workspace.store.get_run_data(run.id).params == {"lr": "0.1"}
    files = {info.path for info in workspace.artifacts.list(run.id)}
    assert {"snapshot/train.py", "outputs/model.txt", STD_LOG} <= files
    assert not any(path.startswith("snapshot/data") for path in files)  # .gitignore honoured
    assert final.source.script == "train.py" and final.source.arguments == ("0.1",)
    assert final.started_at is not None and final.ended_at is not None


def test_failing_script_fails_the_run_with_the_error_tail(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "p", FAILS)))
    final = jobs.wait_for_completion(workspace, run.id, timeout_s=60)
    assert final.status is RunStatus.FAILED
    assert final.error is not None
    assert "exited with code 1" in final.error and "the data is bad" in final.error


@pytest.mark.parametrize("exit_code", ["0", "3"])
def test_a_job_that_fails_its_run_ends_failed_with_its_own_words(
    workspace: OpenWorkspace, tmp_path: Path, exit_code: str
) -> None:
    # Azure's run.fail(): the script's reason, not "exited with code N" and a log tail.
    project = write_project(tmp_path / "p", SAYS_WHY_IT_FAILED)
    run = jobs.submit(workspace, job(project, exit_code))
    final = jobs.wait_for_completion(workspace, run.id, timeout_s=60)
    assert final.status is RunStatus.FAILED
    assert final.error == "the labels file is empty: add one row per image"
    assert workspace.store.get_metric_history(run.id, "rows")  # logged before fail() went in
    log = (workspace.artifacts.run_root(run.id) / STD_LOG).read_text()
    assert "cleaning up" in log  # the script went on to its end


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ("plain", "uncaught ValueError: bad row 7 (at train.py:8)"),
        ("with-reason", "the schema changed"),  # its own words win over the exception
    ],
)
def test_a_job_that_dies_of_an_exception_ends_failed_with_it(
    workspace: OpenWorkspace, tmp_path: Path, argument: str, reason: str
) -> None:
    project = write_project(tmp_path / "p", DIES_OF_AN_EXCEPTION)
    final = jobs.wait_for_completion(
        workspace, jobs.submit(workspace, job(project, argument)).id, timeout_s=60
    )
    assert (final.status, final.error) == (RunStatus.FAILED, reason)
    log = (workspace.artifacts.run_root(final.id) / STD_LOG).read_text()
    assert "Traceback" in log and "ValueError: bad row 7" in log  # the whole story stays here


def test_invalid_job_creates_nothing(workspace: OpenWorkspace, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", TRAIN)
    with pytest.raises(NotFound, match=r"script 'missing\.py' not found"):
        jobs.submit(workspace, job(project, script="missing.py"))
    with pytest.raises(InvalidValue, match="inside the source directory"):
        jobs.submit(workspace, job(project, script="../train.py"))
    with pytest.raises(NotFound, match="compute 'gpu-farm' not found"):
        jobs.submit(workspace, job(project, compute_target="gpu-farm"))
    with pytest.raises(NotFound, match="source directory"):
        jobs.submit(workspace, job(tmp_path / "nowhere"))
    assert workspace.store.list_experiments() == []
    assert not any((workspace.root / "artifacts").iterdir())


def test_cancel_kills_the_whole_process_tree(workspace: OpenWorkspace, tmp_path: Path) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "p", SPAWNS_AND_SLEEPS)))
    log_file = workspace.artifacts.run_root(run.id) / STD_LOG
    wait_for(lambda: log_file.exists() and "child" in log_file.read_text())
    child_pid = int(log_file.read_text().split()[1])
    assert psutil.pid_exists(child_pid)
    canceled = runs.cancel_run(workspace, run.id)
    assert canceled.status is RunStatus.CANCELED
    assert not _alive(child_pid)
    assert not _alive(pid_of(run) or 0)


def test_kill_9_of_the_job_leaves_no_run_running(workspace: OpenWorkspace, tmp_path: Path) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "p", SPAWNS_AND_SLEEPS)))
    wait_for(lambda: workspace.store.get_run(run.id).status is RunStatus.RUNNING)
    assert pid_of(run) is not None
    os.killpg(os.getpgid(pid_of(run)), signal.SIGKILL)
    wait_for(lambda: not _alive(pid_of(run) or 0))
    final = wait_for(lambda: _ended(workspace, run.id), timeout=30)
    assert final.status is RunStatus.FAILED
    assert "is gone" in (final.error or "")
    assert not workspace.store.list_runs(statuses=[RunStatus.RUNNING])


def test_kill_9_of_the_supervisor_takes_its_script_along_and_leaves_nothing(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "p", LOGS_IN_A_LOOP)))
    assert pid_of(run) is not None
    wait_for(lambda: workspace.store.get_metric_history(run.id, "loss"))
    script = wait_for(lambda: _script_process(pid_of(run) or 0))
    log_file = workspace.artifacts.run_root(run.id) / STD_LOG
    worker_pid = int(log_file.read_text().split()[1])
    working_copy = leftovers.working_copy(workspace, run.id)
    assert working_copy.is_dir()
    os.kill(pid_of(run), signal.SIGKILL)  # the supervisor alone, by its recorded pid
    wait_for(lambda: not _alive(script.pid), timeout=30)  # died with it
    final = wait_for(lambda: _ended(workspace, run.id), timeout=60)
    assert final.status is RunStatus.FAILED and "is gone" in (final.error or "")
    assert not _alive(worker_pid)  # what the script started, stopped by the reaper
    assert not working_copy.exists()
    points = workspace.store.get_metric_history(run.id, "loss")
    assert final.ended_at is not None
    assert all(point.timestamp <= final.ended_at.timestamp() for point in points)
    assert runs.cancel_run(workspace, run.id).status is RunStatus.FAILED  # ended: kept
    assert len(workspace.store.get_metric_history(run.id, "loss")) == len(points)


def test_kill_9_of_the_script_alone_fails_the_run(workspace: OpenWorkspace, tmp_path: Path) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "p", SPAWNS_AND_SLEEPS)))
    wait_for(lambda: workspace.store.get_run(run.id).status is RunStatus.RUNNING)
    script = wait_for(lambda: _script_process(pid_of(run) or 0))
    for child in script.children(recursive=True):
        child.kill()
    script.kill()
    final = jobs.wait_for_completion(workspace, run.id, timeout_s=30)
    assert final.status is RunStatus.FAILED
    assert "killed by SIGKILL" in (final.error or "")


@pytest.mark.slow
def test_environment_build_failure_fails_the_run_with_pip_error(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "p", TRAIN)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("modelyard-no-such-package-xyz==0.0.1\n")
    environment = Environment.from_pip_requirements("broken", requirements)
    run = jobs.submit(sqlite_workspace, job(project, "0.1", environment=environment))
    final = jobs.wait_for_completion(sqlite_workspace, run.id, timeout_s=240)
    assert final.status is RunStatus.FAILED
    assert "failed to build" in (final.error or "")
    assert "modelyard-no-such-package-xyz" in (final.error or "")
    build_log = sqlite_workspace.artifacts.run_root(run.id) / "logs" / "environment_build.log"
    assert "modelyard-no-such-package-xyz" in build_log.read_text()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _ended(workspace: OpenWorkspace, run_id: str):  # type: ignore[no-untyped-def]
    runs.reap_dead_runs(workspace)
    run = workspace.store.get_run(run_id)
    return run if run.status.is_terminal else None


def _script_process(supervisor_pid: int) -> psutil.Process | None:
    for child in psutil.Process(supervisor_pid).children():
        if "train.py" in " ".join(child.cmdline()):
            return child
    return None


def test_run_records_git_commit_and_dirty_flag(workspace: OpenWorkspace, tmp_path: Path) -> None:
    project = write_project(tmp_path / "repo", TRAIN)

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", str(project), *arguments], capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    git(
        "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "x", "--allow-empty"
    )
    git("add", "train.py", ".gitignore")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "train")
    clean = jobs.submit(workspace, job(project, "0.1"))
    (project / "train.py").write_text(TRAIN + "\n# edited\n")
    dirty = jobs.submit(workspace, job(project, "0.1"))
    commit = git("rev-parse", "HEAD")
    assert (clean.source.git_commit, clean.source.git_dirty) == (commit, False)
    assert (dirty.source.git_commit, dirty.source.git_dirty) == (commit, True)
    for run in (clean, dirty):
        jobs.wait_for_completion(workspace, run.id, timeout_s=60)


def test_source_outside_git_has_no_commit(workspace: OpenWorkspace, tmp_path: Path) -> None:
    run = jobs.submit(workspace, job(write_project(tmp_path / "plain", TRAIN), "0.1"))
    assert run.source.git_commit is None and run.source.git_dirty is None
    jobs.wait_for_completion(workspace, run.id, timeout_s=60)


def test_read_log_pages_by_bytes_without_splitting_a_character(
    sqlite_workspace: OpenWorkspace,
) -> None:
    from modelyard.errors import UnsafePath
    from modelyard.services.jobs import read_log

    ws = sqlite_workspace
    run = ws.store.create_run("logs", user="ana")
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", "aé€😀".encode())
    pieces, offset = [], 0
    while True:
        text, offset = read_log(ws, run.id, "logs/std_log.txt", offset, max_bytes=3)
        if not text:
            break
        pieces.append(text)
    assert "".join(pieces) == "aé€😀" and "\ufffd" not in "".join(pieces)
    with pytest.raises(UnsafePath):
        read_log(ws, run.id, "../secret", 0, max_bytes=10)
    with pytest.raises(NotFound):
        read_log(ws, "nope", "logs/std_log.txt", 0, max_bytes=10)


def test_reading_a_log_from_past_its_end_is_empty_even_past_the_largest_file(
    sqlite_workspace: OpenWorkspace,
) -> None:
    """Found by the API fuzzer: an offset past the file system's largest file (2**62 is within
    the API's limit; ext4 stops at 16 TiB) made the seek fail with EINVAL, a 500."""
    from modelyard.entities import limits
    from modelyard.services.jobs import read_log

    ws = sqlite_workspace
    run = ws.store.create_run("logs", user="ana")
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", b"epoch 1\n")
    for offset in (8, 9, 2**50, limits.OFFSET_MAX):
        assert read_log(ws, run.id, "logs/std_log.txt", offset, max_bytes=10) == ("", offset)
