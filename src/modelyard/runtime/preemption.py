"""How a job learns that it is being stopped, and where it keeps what lets it resume.

A job on a low-priority compute can be preempted: its supervisor forwards SIGTERM to the
script, waits the grace period (`cancel_grace_s`) and then kills it. The run is queued again and
runs once more under the same run id, with the same checkpoint folder (`checkpoint_dir()`) and
the next attempt number (`attempt()`).

`watch_for_stop()` (called by `Run.get_context()` inside a job) installs a SIGTERM handler that
records the request. What the handler then does depends on whether the script asked:

- a script that opted in, by reading `stop_requested()` or registering `on_stop(callback)`,
  keeps running: it finishes its current step, saves a checkpoint and exits promptly (a
  SIGTERM repeated by the supervisor changes nothing). If it does not exit within the grace
  period, SIGKILL ends it wherever it is, so the checkpoint it resumes from is its last one;
- any other script ends at once, as it did before this module existed: the handler restores
  the default action and sends the signal again, so it dies "killed by SIGTERM".

The handler is installed only in the main thread (Python's rule for signal handlers) and only
while nobody else handles SIGTERM: a script's own handler is left as it is.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Final

from modelyard.errors import InvalidValue
from modelyard.runtime.job_env import ATTEMPT_ENV, CHECKPOINT_DIR_ENV

# Outside a job (or a job launched without the variable): ./checkpoints, as a script run by
# hand would keep them.
LOCAL_CHECKPOINT_FOLDER: Final = "checkpoints"
# A job that stopped because it was asked to, having saved what it needs to resume: 128 +
# SIGTERM, what a shell reports for a process ended by SIGTERM.
STOPPED_EXIT_CODE: Final = 128 + signal.SIGTERM


class _StopWatch:
    """The process's one SIGTERM watch (signals belong to the process, not to a run)."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._opted_in = False
        self._installed = False
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def install(self) -> bool:
        """True when the handler is in place (now or before)."""
        if self._installed:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False  # the script handles SIGTERM itself
        signal.signal(signal.SIGTERM, self._on_sigterm)
        self._installed = True
        return True

    @property
    def requested(self) -> bool:
        self._opted_in = True
        return self._requested.is_set()

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._opted_in = True
            self._callbacks.append(callback)
        if self._requested.is_set():  # registered after the signal came: call it now
            callback()

    def _on_sigterm(self, signum: int, _frame: FrameType | None) -> None:
        if not self._opted_in:
            # Nobody listens: end the way an unwatched process ends.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if self._requested.is_set():
            return  # the same request again (the supervisor and its process group)
        self._requested.set()
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()


_watch = _StopWatch()


def watch_for_stop() -> bool:
    """Record SIGTERM instead of dying of it, for scripts that opt in (see the module's text).
    False where no handler could be installed (another thread, or the script's own handler)."""
    return _watch.install()


def stop_requested() -> bool:
    """True once this job has been asked to stop: save a checkpoint and exit soon. Reading it
    opts in: from then on SIGTERM no longer ends the process by itself."""
    return _watch.requested


def on_stop(callback: Callable[[], None]) -> None:
    """Call `callback` (once, in the main thread, from the signal handler: keep it short) when
    the job is asked to stop. Registering opts in, as reading `stop_requested()` does."""
    _watch.on_stop(callback)


def checkpoint_dir() -> Path:
    """The job's durable checkpoint folder (it outlives the job's working copy and is the same
    for every attempt of the run); outside a job, ./checkpoints. Created if missing."""
    folder = Path(os.environ.get(CHECKPOINT_DIR_ENV) or LOCAL_CHECKPOINT_FOLDER).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def attempt() -> int:
    """Which attempt of the run this process is: 1, then 2 after one preemption, and so on."""
    text = os.environ.get(ATTEMPT_ENV, "").strip()
    if not text:
        return 1
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidValue(
            f"{ATTEMPT_ENV}={text!r} is not an attempt number: expected a whole number from 1"
            " (it is set by the job's supervisor; unset it to run as attempt 1)",
            value=text,
        )
    return number
