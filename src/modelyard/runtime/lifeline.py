"""Start a command that dies with the process that started it, even when that one is SIGKILLed.

    python -I -S lifeline.py PARENT_PID COMMAND [ARGUMENT…]

On Linux this asks the kernel to SIGKILL the process when its parent ends (`prctl` with
`PR_SET_PDEATHSIG`, which survives `exec`), checks that the parent has not already ended, and
then becomes COMMAND with `exec`: no process is added, and the job's script is the supervisor's
own child, which the kernel kills the moment the supervisor dies. `subprocess`'s `preexec_fn`
could make the same call, but it is not safe in a process with threads (the supervisor's
heartbeat is one), so this small program does it between fork and the script.

A job of a sized local compute is pinned here too, before COMMAND starts a thread (threads
inherit the CPUs of the thread that starts them): to the CPUs its supervisor chose and put in
`MODELYARD_JOB_CPUS` (`compute/local/resources.py`).

Elsewhere (no `prctl`) the command simply runs; the reaper then stops what a dead supervisor
left behind (`compute/processes.py`, `stop_leftovers`). Grandchildren are the reaper's to stop
everywhere: the signal reaches the direct child only.

Run by path with `-I -S`, it imports only the standard library: it starts in milliseconds and
works whatever the job's environment holds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
# The exit status when the parent was gone before the watch was set: as if killed by SIGKILL.
PARENT_GONE_EXIT = 128 + signal.SIGKILL
# compute/local/resources.py's JOB_CPUS_ENV, named again: this program imports nothing of ours.
JOB_CPUS_ENV = "MODELYARD_JOB_CPUS"


def die_with_parent() -> bool:
    """Ask for SIGKILL when the parent ends; False where the system cannot do that."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def pin_to_job_cpus() -> None:
    """Run on the CPUs `MODELYARD_JOB_CPUS` lists, when it is set; a list the system refuses
    is said in the job's log and the job runs unpinned rather than not at all."""
    listed = os.environ.get(JOB_CPUS_ENV)
    if not listed or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {int(part) for part in listed.split(",")})
    except (ValueError, OSError) as error:
        print(f"lifeline: cannot pin the job to CPUs {listed}: {error}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: lifeline.py PARENT_PID COMMAND [ARGUMENT…]", file=sys.stderr)
        return 2
    parent, command = int(argv[0]), argv[1:]
    die_with_parent()
    pin_to_job_cpus()
    if os.getppid() != parent:  # it died before the watch was set: the signal will never come
        return PARENT_GONE_EXIT
    try:
        os.execv(command[0], command)
    except OSError as error:
        print(f"lifeline: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
    return 127  # reached only when exec failed: it replaces this program otherwise


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
