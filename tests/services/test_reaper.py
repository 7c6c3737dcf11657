"""The reaper keeps statuses honest: silent runs become NotResponding, dead ones Failed."""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys

import psutil
import pytest
from sqlalchemy import text

from modelyard.compute.local.processes import handle_for, this_host
from modelyard.entities import RunStatus
from modelyard.errors import InvalidValue
from modelyard.services import leftovers, runs
from modelyard.services.workspaces import OpenWorkspace, open_workspace
from run_processes import pid_of

# A stand-in supervisor: starts a script in its session, prints the script's pid, waits.
LEAVES_A_SCRIPT = (
    "import subprocess, sys, time;"
    " s = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
    " print(s.pid, flush=True); time.sleep(600)"
)


def _silent_workspace(ws: OpenWorkspace) -> OpenWorkspace:
    """The same workspace, with a reaper that calls any run silent at once."""
    return open_workspace(ws.root, flags={"heartbeat_timeout_s": 0})


def test_silent_but_alive_is_not_responding_until_it_beats_again(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    me = handle_for(os.getpid())
    workspace.store.record_process(run.id, me.host, me.pid, me.started_at)
    silent = _silent_workspace(workspace)
    runs.reap_dead_runs(silent)
    assert workspace.store.get_run(run.id).status is RunStatus.NOT_RESPONDING
    assert workspace.store.heartbeat(run.id).status is RunStatus.RUNNING
    silent.close()


def test_silent_and_gone_is_failed_with_the_reason(workspace: OpenWorkspace) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    handle = handle_for(process.pid)
    process.wait()
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    workspace.store.record_process(run.id, handle.host, handle.pid, handle.started_at)
    silent = _silent_workspace(workspace)
    runs.reap_dead_runs(silent)
    reaped = workspace.store.get_run(run.id)
    assert reaped.status is RunStatus.FAILED
    assert f"pid {handle.pid} on {this_host()}" in (reaped.error or "")
    silent.close()


def test_a_run_on_another_host_is_only_not_responding(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    workspace.store.record_process(run.id, "elsewhere.example", 1, 0.0)
    silent = _silent_workspace(workspace)
    runs.reap_dead_runs(silent)
    assert workspace.store.get_run(run.id).status is RunStatus.NOT_RESPONDING
    silent.close()


def test_fresh_heartbeats_are_left_alone(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    assert runs.reap_dead_runs(workspace) == []
    assert workspace.store.get_run(run.id).status is RunStatus.RUNNING


def test_a_queued_run_whose_launcher_died_is_failed(workspace: OpenWorkspace) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    handle = handle_for(process.pid)
    process.wait()
    run = workspace.store.create_run("e", user="u", compute_target="local")
    workspace.store.transition_run(run.id, RunStatus.QUEUED)
    workspace.store.record_process(run.id, handle.host, handle.pid, handle.started_at)
    silent = _silent_workspace(workspace)
    runs.reap_dead_runs(silent)
    reaped = workspace.store.get_run(run.id)
    assert reaped.status is RunStatus.FAILED and "logs/supervisor.log" in (reaped.error or "")
    silent.close()


def test_a_queued_run_with_a_live_launcher_waits(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", compute_target="local")
    workspace.store.transition_run(run.id, RunStatus.QUEUED)
    me = handle_for(os.getpid())
    workspace.store.record_process(run.id, me.host, me.pid, me.started_at)
    silent = _silent_workspace(workspace)
    assert runs.reap_dead_runs(silent) == []
    assert workspace.store.get_run(run.id).status is RunStatus.QUEUED
    silent.close()


def test_one_poisoned_row_is_skipped_and_reported_not_fatal_to_every_read(
    workspace: OpenWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    """The review's case: a pid of -5 (written before the edge checked it) made the reaper
    raise, and every read of runs with it."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    handle = handle_for(process.pid)
    process.wait()
    poisoned = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    dead = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    workspace.store.record_process(dead.id, handle.host, handle.pid, handle.started_at)
    with workspace.sql_store._engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET handle = :handle WHERE id = :id"),
            {"handle": f"pid:-5@{this_host()}/1.0", "id": poisoned.id},
        )
    silent = _silent_workspace(workspace)
    with caplog.at_level(logging.WARNING):
        reaped = runs.reap_dead_runs(silent)
    assert [run.id for run in reaped] == [dead.id]  # the others are still reaped
    assert f"reaper skipped run {poisoned.id}" in caplog.text
    assert {run.id for run in runs.list_runs(silent, "e")} == {poisoned.id, dead.id}
    silent.close()


def test_a_bad_process_record_is_refused_at_the_edge(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    for pid, started in ((-5, 1.0), (0, 1.0), (2**70, 1.0), (7, math.nan), (7, -1.0)):
        with pytest.raises(InvalidValue):
            workspace.store.record_process(run.id, this_host(), pid, started)
    assert pid_of(workspace.store.get_run(run.id)) is None


def test_a_dead_supervisors_leftovers_are_stopped_and_its_working_copy_removed(
    workspace: OpenWorkspace,
) -> None:
    # Where the script could not be tied to its supervisor (no PR_SET_PDEATHSIG): the reaper
    # stops what is left of the supervisor's session when it fails the run.
    supervisor = subprocess.Popen(
        [sys.executable, "-c", LEAVES_A_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert supervisor.stdout is not None
    script = psutil.Process(int(supervisor.stdout.readline()))
    handle = handle_for(supervisor.pid)
    run = workspace.store.create_run("e", user="u", compute_target="local")
    workspace.store.transition_run(run.id, RunStatus.RUNNING)
    workspace.store.record_process(run.id, handle.host, handle.pid, handle.started_at)
    working_copy = leftovers.working_copy(workspace, run.id)
    (working_copy / "outputs").mkdir(parents=True)
    supervisor.kill()
    supervisor.wait(timeout=10)
    silent = _silent_workspace(workspace)
    [reaped] = runs.reap_dead_runs(silent)
    assert reaped.status is RunStatus.FAILED
    assert not working_copy.exists()
    assert _dead(script)
    silent.close()


def _dead(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
