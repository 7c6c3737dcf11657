"""Process-tree control: a pid is found again only with its start time; trees stop whole."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import psutil
import pytest

from modelyard.compute import backend_for
from modelyard.compute.base import ProcessHandle
from modelyard.compute.local.processes import (
    find_process,
    handle_for,
    is_gone,
    stop_leftovers,
    stop_process_tree,
)
from modelyard.entities.compute import ComputeTarget, ComputeType, Priority, ProvisioningState
from modelyard.errors import InvalidValue

# A parent that starts one child in its own group and one that escaped with setsid, then sleeps.
FAMILY = textwrap.dedent(
    """
    import os, subprocess, sys, time
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    same_group = subprocess.Popen(sleeper)
    escaped = subprocess.Popen(sleeper, start_new_session=True)
    print(same_group.pid, escaped.pid, flush=True)
    time.sleep(600)
    """
)


def test_a_whole_tree_stops_even_children_that_left_the_group() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert parent.stdout is not None
    child_pids = [int(pid) for pid in parent.stdout.readline().split()]
    handle = handle_for(parent.pid)
    assert stop_process_tree(handle, grace_s=2.0)
    parent.wait(timeout=10)
    time.sleep(0.2)
    for pid in child_pids:
        assert not _alive(pid), pid


def test_sigterm_is_tried_before_sigkill() -> None:
    graceful = textwrap.dedent(
        """
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: (print("got SIGTERM", flush=True), sys.exit(0)))
        print("ready", flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", graceful], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    assert stop_process_tree(handle_for(process.pid), grace_s=5.0)
    assert "got SIGTERM" in process.stdout.read()
    assert process.wait(timeout=5) == 0


def test_a_reused_pid_is_not_taken_for_the_old_process() -> None:
    me = handle_for(os.getpid())
    assert find_process(me) is not None and is_gone(me) is False
    impostor = ProcessHandle(host=me.host, pid=me.pid, started_at=me.started_at - 3600)
    assert find_process(impostor) is None and is_gone(impostor) is True
    assert is_gone(ProcessHandle(host="another-host", pid=me.pid, started_at=0.0)) is None


# A session leader (a supervisor) with a child, which has a child of its own (a script's worker).
LEADER = textwrap.dedent(
    """
    import subprocess, sys, time
    worker = "import subprocess, sys, time; "
    worker += "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    worker += "print(w.pid, flush=True); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
    print(child.pid, child.stdout.readline().strip(), flush=True)
    time.sleep(600)
    """
)


def _leader_with_descendants() -> tuple[subprocess.Popen[str], list[int]]:
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert leader.stdout is not None
    return leader, [int(pid) for pid in leader.stdout.readline().split()]


def test_what_a_killed_leader_left_in_its_session_is_stopped() -> None:
    leader, descendants = _leader_with_descendants()
    handle = handle_for(leader.pid)
    leader.kill()  # SIGKILL: it stops nothing of its own
    leader.wait(timeout=10)
    assert all(_alive(pid) for pid in descendants)
    assert stop_leftovers(handle)
    assert not any(_alive(pid) for pid in descendants)


def test_a_live_leader_or_a_reused_pid_is_left_alone() -> None:
    leader, descendants = _leader_with_descendants()
    try:
        handle = handle_for(leader.pid)
        assert stop_leftovers(handle)  # alive: cancel's business, not the reaper's
        stranger = ProcessHandle(handle.host, handle.pid, handle.started_at - 3600)
        assert stop_leftovers(stranger)  # the pid now names someone else
        assert stop_leftovers(ProcessHandle("another-host", handle.pid, handle.started_at))
        assert all(_alive(pid) for pid in [leader.pid, *descendants])
    finally:
        assert stop_process_tree(handle_for(leader.pid), grace_s=2.0)
        leader.wait(timeout=10)


def test_stopping_the_tree_of_a_dead_leader_stops_its_leftovers() -> None:
    leader, descendants = _leader_with_descendants()
    handle = handle_for(leader.pid)
    leader.kill()
    leader.wait(timeout=10)
    assert stop_process_tree(handle, grace_s=2.0)  # what `run cancel` calls
    assert not any(_alive(pid) for pid in descendants)


def test_a_compute_finds_the_backend_of_its_type() -> None:
    local = ComputeTarget(
        name="cpu",
        type=ComputeType.LOCAL,
        size="Standard_DS1_v2",
        priority=Priority.DEDICATED,
        min_nodes=0,
        max_nodes=1,
        idle_seconds_before_scaledown=0,
        state=ProvisioningState.SUCCEEDED,
        created_at=datetime.now(UTC),
    )
    backend = backend_for(local)
    assert backend.name == "local"
    assert backend.capacity().cpus >= 1


def test_a_process_handle_is_an_opaque_string_that_parses_back() -> None:
    me = handle_for(os.getpid())
    assert ProcessHandle.parse(me.to_string()) == me
    with pytest.raises(InvalidValue, match="is not pid:PID@HOST/START_TIME"):
        ProcessHandle.parse("ray:raysubmit_1")


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
