"""lifeline.py: a job's script dies with its supervisor, even when that is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from modelyard.runtime import lifeline

LIFELINE = [sys.executable, "-I", "-S", lifeline.__file__]

# A stand-in for the supervisor: starts a sleeper through the lifeline, prints its pid, waits.
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    lifeline = sys.argv[1:]
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    child = subprocess.Popen([*lifeline, str(os.getpid()), *sleeper])
    print(child.pid, flush=True)
    time.sleep(600)
    """
)

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)


def test_the_command_runs_as_itself_with_its_arguments_and_exit_code() -> None:
    command = [sys.executable, "-c", "import sys; print(sys.argv[1:]); sys.exit(3)", "a b", "c"]
    done = subprocess.run(
        [*LIFELINE, str(os.getpid()), *command], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (3, "['a b', 'c']")


@linux_only
def test_the_child_is_killed_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *LIFELINE], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    _wait_until(lambda: "time.sleep(600)" in " ".join(child.cmdline()))  # exec'd the sleeper
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    assert _gone(child, timeout_s=30)


@linux_only
def test_a_parent_gone_before_the_watch_was_set_stops_the_command_at_once() -> None:
    # The pid given is not the real parent's: as if the supervisor died during the start.
    done = subprocess.run(
        [*LIFELINE, "1", "/bin/echo", "ran"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (lifeline.PARENT_GONE_EXIT, "")


def test_bad_arguments_and_a_missing_program_are_one_line_each() -> None:
    usage = subprocess.run([*LIFELINE, "x"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: lifeline.py")
    missing = subprocess.run(
        [*LIFELINE, str(os.getpid()), "/no/such/program"], capture_output=True, text=True
    )
    assert missing.returncode == 127
    assert (
        missing.stderr.strip()
        == "lifeline: cannot run '/no/such/program': No such file or directory"
    )


def _wait_until(predicate, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _gone(process: psutil.Process, timeout_s: float) -> bool:
    """Dead, whether or not its new parent has reaped it yet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False
