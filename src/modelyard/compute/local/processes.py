"""Process-tree control on this machine: find a process again, and stop it with all its children."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

import psutil

from modelyard.compute.base import Capacity, ProcessHandle
from modelyard.compute.local.resources import Placement

# A pid is reused by the OS; the pair (pid, create time) is not. Times are compared loosely
# because psutil rounds them differently across calls on some kernels.
_START_TIME_TOLERANCE_S = 1.0


def this_host() -> str:
    return socket.gethostname()


def handle_for(pid: int) -> ProcessHandle:
    return ProcessHandle(host=this_host(), pid=pid, started_at=psutil.Process(pid).create_time())


def handle_for_this_process() -> ProcessHandle:
    return handle_for(os.getpid())


def find_process(handle: ProcessHandle) -> psutil.Process | None:
    try:
        process = psutil.Process(handle.pid)
        if abs(process.create_time() - handle.started_at) > _START_TIME_TOLERANCE_S:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except psutil.Error:
        return None


def is_gone(handle: ProcessHandle) -> bool | None:
    if handle.host != this_host():
        return None
    return find_process(handle) is None


def stop_process_tree(handle: ProcessHandle, grace_s: float) -> bool:
    """SIGTERM the process, its group and every descendant; SIGKILL what is left after grace_s.
    If the process itself is gone already, what is left of its session is killed."""
    root = find_process(handle)
    if root is None:
        return stop_leftovers(handle)
    tree = _tree(root)
    _signal_all(root, tree, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    if alive:
        _signal_all(root, _tree(root) if find_process(handle) else alive, signal.SIGKILL)
        _, alive = psutil.wait_procs(alive, timeout=5)
    return not alive


def stop_leftovers(handle: ProcessHandle) -> bool:
    """SIGKILL what a dead session leader left behind (a supervisor's script and the script's
    children); True once nothing of it is left.

    A launched supervisor leads its own session, and the kernel does not reuse a pid while a
    session or group still carries it: so when no live process has the recorded pid, every
    process whose session id is that pid is the dead leader's. A live process with the pid
    (the leader itself, or a newer process that reused the number after the session emptied)
    means there is nothing of ours to stop here. Processes that left the session (setsid) are
    out of reach; the supervisor's own cancel finds those through its tree while it lives.
    """
    if handle.host != this_host() or _pid_is_taken(handle):
        return True
    leftovers = _session_members(handle.pid)
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()  # the run has ended: nothing is left to shut down gracefully
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    return not [process for process in alive if not _is_dead(process)]


def _is_dead(process: psutil.Process) -> bool:
    """Gone, or a zombie: dead, waiting for a parent (often init) to collect it."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _pid_is_taken(handle: ProcessHandle) -> bool:
    """True if the pid is the leader still running, or a stranger's, dead or alive."""
    try:
        process = psutil.Process(handle.pid)
        if process.status() != psutil.STATUS_ZOMBIE:
            return True
        return abs(process.create_time() - handle.started_at) > _START_TIME_TOLERANCE_S
    except psutil.Error:
        return False


def _session_members(session_id: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if process.pid != session_id and os.getsid(process.pid) == session_id:
                members.append(process)
    return members


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


def _signal_all(root: psutil.Process, tree: list[psutil.Process], sig: signal.Signals) -> None:
    # The group catches children that re-parented to init; the list catches those that left
    # the group with setsid. Only a group the process leads is signalled, never the caller's.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        group = os.getpgid(root.pid)
        if group == root.pid and group != os.getpgrp():
            os.killpg(group, sig)
    for process in tree:
        with contextlib.suppress(psutil.Error):
            process.send_signal(sig)


def wait_until_gone(handle: ProcessHandle, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if find_process(handle) is None:
            return True
        time.sleep(0.05)
    return find_process(handle) is None


def host_capacity() -> Capacity:
    """This host's CPUs (those this process may run on), memory and GPUs."""
    memory_gib = psutil.virtual_memory().total / 2**30
    return Capacity(cpus=float(len(host_cpus())), memory_gib=memory_gib, gpus=len(visible_gpus()))


def host_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity: a container's or taskset's share)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def running_job_placements() -> list[Placement]:
    """The CPUs and GPUs that the running jobs of sized local computes hold, read from their
    scripts' environments (`resources.JOB_CPUS_ENV`): any workspace's, of any user whose
    processes this one may read. A job's claim ends with its script."""
    placements = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            placement = Placement.from_environment(process.environ())
            if placement is not None and process.status() != psutil.STATUS_ZOMBIE:
                placements.append(placement)
    return placements


def tree_memory_bytes(root: psutil.Process) -> int:
    """The memory a process and its descendants use: the sum of their proportional set sizes
    (PSS), so pages that forked workers share with their parent count once, not once per
    worker as resident sizes would; the resident size where the system has no PSS."""
    total = 0
    for process in _tree(root):
        with contextlib.suppress(psutil.Error):
            total += _memory_of(process)
    return total


def _memory_of(process: psutil.Process) -> int:
    try:
        return int(process.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):
        return int(process.memory_info().rss)


def visible_gpus() -> list[int]:
    """Indexes of this host's NVIDIA GPUs (nvidia-smi), within CUDA_VISIBLE_DEVICES when set."""
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    found = [int(line) for line in result.stdout.split() if line.strip().isdigit()]
    allowed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if allowed is None:
        return found
    chosen = {int(part) for part in allowed.split(",") if part.strip().isdigit()}
    return [index for index in found if index in chosen]
