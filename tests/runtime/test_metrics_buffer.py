"""The metrics buffer writes in batches and stops for good once its run has ended."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from modelyard.entities import RunStatus
from modelyard.errors import RunEnded
from modelyard.runtime.job_env import job_environment
from modelyard.runtime.metrics_buffer import MetricsBuffer
from modelyard.services.workspaces import OpenWorkspace

# Logs until something stops it; says so once the first batch is in.
LOGS_FOREVER = textwrap.dedent(
    """
    import itertools, time
    from modelyard import Run

    run = Run.get_context(allow_offline=False)
    for step in itertools.count():
        run.log("loss", 1.0 / (step + 1), step=step)
        if step == 0:
            run.flush()
            print("logging", flush=True)
        time.sleep(0.01)
    """
)


def _buffer(ws: OpenWorkspace, run_id: str) -> MetricsBuffer:
    # A long interval: only explicit flushes write, so the test sees each one.
    return MetricsBuffer(ws.store, run_id, flush_size=1000, flush_interval_s=3600)


def test_after_its_run_ended_the_buffer_refuses_every_point(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    buffer = _buffer(workspace, run.id)
    buffer.add("loss", 1.0, 0)
    buffer.flush()
    buffer.add("loss", 0.5, 1)
    workspace.store.transition_run(run.id, RunStatus.FAILED, error="lost")
    with pytest.raises(RunEnded, match=f"run {run.id} has already ended"):
        buffer.flush()
    with pytest.raises(RunEnded):
        buffer.add("loss", 0.25, 2)
    with pytest.raises(RunEnded):
        buffer.flush()
    buffer.close()  # at exit: quiet, nothing left to write
    assert [m.value for m in workspace.store.get_metric_history(run.id)] == [1.0]


def test_closing_after_the_run_ended_drops_the_points_with_a_warning(
    workspace: OpenWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    buffer = _buffer(workspace, run.id)
    buffer.add("loss", 1.0, 0)
    workspace.store.transition_run(run.id, RunStatus.CANCELED)
    buffer.close()
    assert "has already ended (Canceled)" in caplog.text
    assert workspace.store.get_metric_history(run.id) == []


def test_a_script_outliving_its_run_stops_at_its_next_log_with_one_line(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("e", user="u", status=RunStatus.RUNNING)
    script = subprocess.Popen(
        [sys.executable, "-c", LOGS_FOREVER],
        env=job_environment(ws.root, run.id),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert script.stdout is not None and script.stdout.readline().strip() == "logging"
        ws.store.transition_run(run.id, RunStatus.FAILED, error="its supervisor is gone")
        _out, err = script.communicate(timeout=60)
    finally:
        script.kill()
    assert script.returncode == 1
    assert f"modelyard: stopping: run {run.id} has already ended (Failed)" in err
    assert "Traceback" not in err
    ended_at = ws.store.get_run(run.id).ended_at
    assert ended_at is not None
    assert all(m.timestamp <= ended_at.timestamp() for m in ws.store.get_metric_history(run.id))
