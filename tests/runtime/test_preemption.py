"""A job asked to stop (SIGTERM, as a preemption sends it): real processes, real signals.

Each script runs as a job's script does: a subprocess with the run's variables, reporting to a
real workspace, signalled by the test the way the supervisor forwards a preemption (twice: to
the process group and to the child).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from modelyard.entities import Metric, RunStatus
from modelyard.errors import InvalidValue
from modelyard.runtime import preemption
from modelyard.runtime.job_env import (
    ATTEMPT_ENV,
    CHECKPOINT_DIR_ENV,
    RUN_ID_ENV,
    WORKSPACE_PATH_ENV,
    job_environment,
)
from modelyard.services.workspaces import OpenWorkspace

DEADLINE_S = 120.0
READY = "ready"

WATCHING_SCRIPT = """
import json, sys, time
from modelyard import Run
run = Run.get_context()
step = 0
print("{ready}", flush=True)
while not run.stop_requested:
    run.log("loss", 1.0 / (step + 1), step=step)
    step += 1
    time.sleep(0.02)
(run.checkpoint_dir / "state.json").write_text(json.dumps({{"next_step": step}}))
print("stopping after step", step - 1, "attempt", run.attempt, flush=True)
"""

IGNORING_SCRIPT = """
import time
from modelyard import Run
run = Run.get_context()
print("{ready}", flush=True)
time.sleep(600)
"""

CALLBACK_SCRIPT = """
import time
from modelyard import Run
run = Run.get_context()
calls = []
run.on_stop(lambda: calls.append("stop"))
print("{ready}", flush=True)
deadline = time.monotonic() + 120
while not calls and time.monotonic() < deadline:
    time.sleep(0.02)
time.sleep(0.3)  # room for the second SIGTERM to arrive
print("calls", len(calls), flush=True)
"""

OWN_HANDLER_SCRIPT = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (print("own handler", flush=True), sys.exit(3)))
from modelyard import Run
run = Run.get_context()
print("{ready}", flush=True)
time.sleep(600)
"""


def _job_env(ws: OpenWorkspace, run_id: str, checkpoints: Path, attempt: int) -> dict[str, str]:
    environment = job_environment(ws.root, run_id, checkpoint_dir=checkpoints, attempt=attempt)
    environment["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    return environment


def _start(script: str, environment: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script).format(ready=READY)],
        env=environment,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:  # bounded: the script prints READY first or dies
        lines.append(line)
        if line.strip() == READY:
            return process
    process.wait()
    raise AssertionError("the script never got ready:\n" + "".join(lines))


def _sigterm_twice(process: subprocess.Popen[str]) -> None:
    """What a preempted job receives: SIGTERM to its group, and again from the supervisor."""
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=DEADLINE_S)
    return process.returncode, output


def _wait_for_points(ws: OpenWorkspace, run_id: str, name: str, count: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while len(ws.store.get_metric_history(run_id, name)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} points of {name}"
        time.sleep(0.1)


def test_a_script_watching_stop_requested_checkpoints_and_exits_on_its_own(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("preempt", user="u", status=RunStatus.RUNNING)
    checkpoints = tmp_path / "checkpoints"
    process = _start(WATCHING_SCRIPT, _job_env(ws, run.id, checkpoints, 2), tmp_path)
    _wait_for_points(ws, run.id, "loss", 3)

    _sigterm_twice(process)
    code, output = _finish(process)

    assert code == 0, output
    state = json.loads((checkpoints / "state.json").read_text())
    assert f"stopping after step {state['next_step'] - 1} attempt 2" in output
    # Every step it logged reached the run (flushed at exit): a clean stop loses nothing.
    steps = [point.step for point in ws.store.get_metric_history(run.id, "loss")]
    assert steps == list(range(state["next_step"]))


def test_a_script_that_never_asks_still_dies_of_sigterm(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("preempt", user="u", status=RunStatus.RUNNING)
    process = _start(IGNORING_SCRIPT, _job_env(ws, run.id, tmp_path / "c", 1), tmp_path)
    process.send_signal(signal.SIGTERM)
    code, output = _finish(process)
    assert code == -signal.SIGTERM, output


def test_on_stop_is_called_once_however_many_sigterms_come(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("preempt", user="u", status=RunStatus.RUNNING)
    process = _start(CALLBACK_SCRIPT, _job_env(ws, run.id, tmp_path / "c", 1), tmp_path)
    _sigterm_twice(process)
    code, output = _finish(process)
    assert code == 0, output
    assert "calls 1" in output


def test_a_scripts_own_sigterm_handler_is_left_in_place(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("preempt", user="u", status=RunStatus.RUNNING)
    process = _start(OWN_HANDLER_SCRIPT, _job_env(ws, run.id, tmp_path / "c", 1), tmp_path)
    process.send_signal(signal.SIGTERM)
    code, output = _finish(process)
    assert code == 3 and "own handler" in output, output


RESUMED_LOGGING_SCRIPT = """
from modelyard import Run
run = Run.get_context()
for step in range(3, 8):
    run.log("loss", 100.0 + step, step=step)
for _ in range(2):
    run.log("count", 1.0)
"""


def test_a_resumed_attempt_logs_no_step_an_earlier_attempt_logged(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = workspace
    run = ws.store.create_run("preempt", user="u", status=RunStatus.RUNNING)
    earlier = [Metric("loss", float(step), step, 1_000 + step) for step in range(5)]
    earlier += [Metric("count", 0.0, step, 2_000 + step) for step in range(3)]
    ws.store.log_batch(run.id, earlier)
    script = textwrap.dedent(RESUMED_LOGGING_SCRIPT)
    environment = _job_env(ws, run.id, tmp_path / "c", 2)
    subprocess.run([sys.executable, "-c", script], env=environment, cwd=tmp_path, check=True)

    loss = [(p.step, p.value) for p in ws.store.get_metric_history(run.id, "loss")]
    # Steps 3 and 4 keep the first attempt's values; 5 to 7 are new; nothing twice.
    assert loss == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)] + [
        (step, 100.0 + step) for step in (5, 6, 7)
    ]
    # Without a step, numbering continues after the earlier attempt's last step.
    counts = [(p.step, p.value) for p in ws.store.get_metric_history(run.id, "count")]
    assert counts == [(0, 0.0), (1, 0.0), (2, 0.0), (3, 1.0), (4, 1.0)]


def test_outside_a_job_nothing_watches_sigterm_and_checkpoints_go_to_a_local_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard import Run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CHECKPOINT_DIR_ENV, raising=False)
    monkeypatch.delenv(ATTEMPT_ENV, raising=False)
    assert RUN_ID_ENV not in os.environ and WORKSPACE_PATH_ENV not in os.environ
    with pytest.warns(UserWarning, match="not inside a Modelyard job"):
        run = Run.get_context()
        run.log("x", 1.0)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert run.checkpoint_dir == tmp_path / "checkpoints" and run.checkpoint_dir.is_dir()
    assert run.stop_requested is False and run.attempt == 1


def test_the_attempt_comes_from_the_supervisors_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert job_environment(Path("/ws"), "r", attempt=3)[ATTEMPT_ENV] == "3"
    monkeypatch.setenv(ATTEMPT_ENV, "3")
    assert preemption.attempt() == 3
    monkeypatch.setenv(ATTEMPT_ENV, "zero")
    with pytest.raises(InvalidValue, match="MODELYARD_ATTEMPT='zero' is not an attempt number"):
        preemption.attempt()


def test_no_handler_is_installed_from_another_thread() -> None:
    installed: list[bool] = []
    thread = threading.Thread(target=lambda: installed.append(preemption.watch_for_stop()))
    thread.start()
    thread.join()
    assert installed == [False]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
