"""The process that owns one run on a local compute: `python -m modelyard.runtime.supervisor`.

It prepares the environment (Preparing), runs the script as a child (Running), heartbeats the
whole time, uploads `./outputs` (Finalizing) and records how it ended. Cancel reaches it as
SIGTERM to its process group; the child gets the same signal. The script dies with the
supervisor even when that is SIGKILLed (`lifeline.py`); the reaper stops what else is left.

A run of a sized local compute gets its size's share of this host (`compute/local/resources.py`):
the CPUs, chosen when the script starts around those other jobs hold, with thread counts to
match; GPUs of its own where the host has them; and a memory limit over its process tree
(`compute/local/memory_watch.py`). The size reaches the supervisor as its arguments (`--size --cpus
--memory-limit-bytes --gpus`); without them (the built-in `local`) nothing is limited.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import IO, Any

from modelyard.compute.local import processes
from modelyard.compute.local.memory_watch import MemoryWatch
from modelyard.compute.local.resources import (
    Placement,
    SizeLimits,
    format_gib,
    format_indexes,
    place,
    script_environment,
)
from modelyard.entities import Run, RunStatus
from modelyard.environments import Environment, EnvironmentBuilder
from modelyard.errors import (
    ComputeUnavailable,
    EnvironmentBuildFailed,
    InvalidTransition,
    ModelyardError,
)
from modelyard.fileio import exclusive_lock
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.runtime.job_command import failure_reason, job_command, last_lines
from modelyard.runtime.job_env import job_environment
from modelyard.runtime.job_error import reported_failure
from modelyard.services import scheduling
from modelyard.services.jobs import read_job_spec
from modelyard.services.leftovers import working_copy
from modelyard.services.run_files import ENVIRONMENT_LOG, JOB_ERROR, STD_LOG
from modelyard.services.workspaces import OpenWorkspace, open_workspace

CHECKPOINTS = "checkpoints"
# Held while a job of a sized compute chooses its CPUs and GPUs and starts, so that two jobs
# starting at once do not both choose the same ones (the second sees the first's claim).
PLACEMENT_LOCK = "local-placement.lock"


class Supervisor:
    def __init__(self, ws: OpenWorkspace, run_id: str, limits: SizeLimits | None = None) -> None:
        self.ws = ws
        self.run_id = run_id
        self.limits = limits
        self.memory_exceeded: str | None = None
        self.run_root = ws.local_artifacts.run_root(run_id)
        self.workdir = working_copy(ws, run_id)
        self.terminating = threading.Event()
        self._sigterm_seen = False
        self.preempted = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None
        self.attempt = 1
        self.requeue_when_done = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_sigterm)
        heartbeat = Heartbeat(
            self.ws.store,
            self.run_id,
            self.ws.settings.heartbeat_interval_s,
            on_beat=self._on_beat,
        )
        try:
            self.attempt = self._transition(RunStatus.PREPARING).attempt
            heartbeat.start()
            spec = read_job_spec(self.ws, self.run_id)
            python = self._prepare(spec)
            exit_code = self._execute(spec, python)
            self._finish(exit_code)
        except (EnvironmentBuildFailed, ComputeUnavailable) as error:
            self._end(RunStatus.FAILED, error.message)
        except _Canceled:
            self._end(RunStatus.CANCELED)
        except _Preempted:
            self.requeue_when_done = True
        finally:
            heartbeat.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)
        # Only now: the next attempt may start as soon as the run is queued again, and nothing
        # of this one (its heartbeat, its working copy) may outlive that moment.
        if self.requeue_when_done:
            self._requeue()
        else:
            self._free_the_node()
        return 0

    def _free_the_node(self) -> None:
        """This run's node is free: a pass admits whatever waits for it (no daemon does)."""
        try:
            scheduling.schedule_pass(self.ws)
        except ModelyardError as error:
            print(f"modelyard supervisor: scheduling pass failed: {error.message}", file=sys.stderr)

    def _on_beat(self, run: Run) -> None:
        if run.status is RunStatus.CANCEL_REQUESTED and not self.terminating.is_set():
            # Its canceller marks it, then stops this process group; had the canceller died
            # in between (a sweep's driver canceling its trials), the mark alone stops it.
            self.terminating.set()
            self._stop_child(self.ws.settings.cancel_grace_s)
            return
        if run.status is RunStatus.PREEMPTED and not self.preempted.is_set():
            self.preempted.set()
            grace_s = self.ws.settings.cancel_grace_s
            print(
                f"modelyard supervisor: {run.status_detail or 'preempted'}; stopping the job"
                f" (SIGTERM, then SIGKILL after {grace_s:g} s)",
                file=sys.stderr,
                flush=True,
            )
            self._stop_child(grace_s)

    def _stop_child(self, grace_s: float) -> None:
        """SIGTERM the script (it may checkpoint), SIGKILL it if still there after `grace_s`."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.terminate()
        killer = threading.Timer(grace_s, _kill_if_running, args=(child,))
        killer.daemon = True
        killer.start()

    def _requeue(self) -> None:
        run = self.ws.store.get_run(self.run_id)
        if run.status is RunStatus.PREEMPTED:
            scheduling.requeue(
                self.ws, self.run_id, RunStatus.PREEMPTED, run.status_detail or "preempted"
            )

    def _on_sigterm(self, _signum: int, _frame: FrameType | None) -> None:
        # A second SIGTERM can arrive while this handler is inside Event.set, holding the
        # event's lock: entering set() again from the same thread would wait on it for ever
        # (seen: a canceled sweep's trial whose supervisor never ended).
        if self._sigterm_seen:
            return
        self._sigterm_seen = True
        self.terminating.set()
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()

    def _prepare(self, spec: dict[str, Any]) -> Path:
        environment = Environment.from_dict(spec["environment"])
        builder = EnvironmentBuilder(self.ws.cache_dir / "environments")
        with open(self.run_root / ENVIRONMENT_LOG, "a", encoding="utf-8") as log:
            python: Path = builder.python_for(environment, log=log)
        self._check_not_canceled()
        shutil.copytree(self.run_root / "snapshot", self.workdir)
        (self.workdir / "outputs").mkdir(exist_ok=True)
        return python

    def _execute(self, spec: dict[str, Any], python: Path) -> int:
        self._transition(RunStatus.RUNNING)
        log_path = self.run_root / STD_LOG
        error_file = self.run_root / JOB_ERROR
        error_file.unlink(missing_ok=True)  # an earlier attempt's (a requeued run's)
        environment = job_environment(
            self.ws.root,
            self.run_id,
            python,
            self.run_root / CHECKPOINTS,
            error_file,
            attempt=self.attempt,
        )
        with open(log_path, "ab") as log:
            self.child = self._start_script(job_command(python, spec), environment, log)
            watch = self._watch_memory(self.child.pid)
            try:
                return self.child.wait()
            finally:
                if watch is not None:
                    watch.stop()
                    self.memory_exceeded = watch.exceeded

    def _start_script(
        self, command: list[str], environment: dict[str, str], log: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        if self.limits is None:
            return self._popen(command, script_environment(environment, None), log)
        with exclusive_lock(self.ws.cache_dir / PLACEMENT_LOCK):
            placement = self._place(self.limits)
            # Once started, its environment holds the claim the next job's supervisor reads.
            return self._popen(command, script_environment(environment, placement), log)

    def _place(self, limits: SizeLimits) -> Placement:
        host_gpus = processes.visible_gpus() if limits.gpus else []
        placement = place(
            limits, processes.host_cpus(), host_gpus, processes.running_job_placements()
        )
        gpus = f", GPUs {format_indexes(placement.gpus)}" if placement.gpus else ""
        print(
            f"modelyard supervisor: size {limits.size}: CPUs {format_indexes(placement.cpus)}"
            f"{gpus}, at most {format_gib(limits.memory_limit_bytes)} GiB of memory",
            flush=True,
        )
        return placement

    def _popen(
        self, command: list[str], environment: dict[str, str], log: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            cwd=self.workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _watch_memory(self, pid: int) -> MemoryWatch | None:
        if self.limits is None:
            return None
        return MemoryWatch(pid, self.limits.memory_limit_bytes, self.limits.size).start()

    def _finish(self, exit_code: int) -> None:
        self._check_not_canceled()
        self._transition(RunStatus.FINALIZING)
        self.ws.artifacts.put_folder(self.run_id, "outputs", self.workdir / "outputs")
        self._check_not_canceled()
        reported = reported_failure(self.run_root / JOB_ERROR)
        if self.memory_exceeded is not None:
            self._end(RunStatus.FAILED, self.memory_exceeded)
        elif reported is not None:
            self._end(RunStatus.FAILED, reported)
        elif exit_code == 0:
            self._end(RunStatus.COMPLETED)
        else:
            self._end(RunStatus.FAILED, self._failure_reason(exit_code))

    def _failure_reason(self, exit_code: int) -> str:
        return failure_reason(exit_code, last_lines(self.run_root / STD_LOG))

    def _check_not_canceled(self) -> None:
        status = self._status()
        if self.preempted.is_set() or status is RunStatus.PREEMPTED:
            raise _Preempted
        if self.terminating.is_set() or status is RunStatus.CANCEL_REQUESTED:
            raise _Canceled

    def _status(self) -> RunStatus:
        return self.ws.store.get_run(self.run_id).status

    def _transition(self, target: RunStatus) -> Run:
        try:
            return self.ws.store.transition_run(self.run_id, target)
        except InvalidTransition:
            status = self._status()
            if status is RunStatus.CANCEL_REQUESTED:
                raise _Canceled from None
            if status is RunStatus.PREEMPTED:
                raise _Preempted from None
            raise

    def _end(self, target: RunStatus, error: str | None = None) -> None:
        status = self._status()
        if status is RunStatus.PREEMPTED and target is not RunStatus.COMPLETED:
            self.requeue_when_done = True  # stopped for someone else: its next attempt resumes
            return
        if status is RunStatus.CANCEL_REQUESTED:
            target, error = RunStatus.CANCELED, None
        # Already ended by the canceller or the reaper? Their word stands.
        with contextlib.suppress(InvalidTransition):
            self.ws.store.transition_run(self.run_id, target, error=error)


class _Canceled(Exception):
    """The run was asked to stop; unwinds to the supervisor's top."""


class _Preempted(Exception):
    """The run was preempted: its job stopped, it goes back to the queue."""


def _kill_if_running(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.kill()  # the lifeline: the script dies with it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.runtime.supervisor")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--run-id", required=True)
    # What a size gives each job (compute/local/resources.py's SizeLimits.to_arguments).
    parser.add_argument("--size")
    parser.add_argument("--cpus", type=int)
    parser.add_argument("--memory-limit-bytes", type=int)
    parser.add_argument("--gpus", type=int, default=0)
    options = parser.parse_args(argv)
    limits = _limits_from(parser, options)
    ws = open_workspace(options.workspace)
    try:
        return Supervisor(ws, options.run_id, limits).run()
    except ModelyardError as error:
        print(f"modelyard supervisor: {error.message}", file=sys.stderr)
        _fail_quietly(ws, options.run_id, error.message)
        return 1
    finally:
        ws.close()


def _limits_from(parser: argparse.ArgumentParser, options: argparse.Namespace) -> SizeLimits | None:
    if options.size is None:
        return None
    if options.cpus is None or options.memory_limit_bytes is None:
        parser.error("--size needs --cpus and --memory-limit-bytes")
    if options.cpus < 1 or options.memory_limit_bytes < 1 or options.gpus < 0:
        parser.error("--cpus and --memory-limit-bytes must be positive, --gpus at least 0")
    return SizeLimits(options.size, options.cpus, options.memory_limit_bytes, options.gpus)


def _fail_quietly(ws: OpenWorkspace, run_id: str, message: str) -> None:
    with contextlib.suppress(ModelyardError):
        ws.store.transition_run(run_id, RunStatus.FAILED, error=message)


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
