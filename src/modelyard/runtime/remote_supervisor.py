"""The process that owns one run on a Ray cluster:
`python -m modelyard.runtime.remote_supervisor --run-id RUN`.

Ray starts it as the job's entrypoint, in a copy of the run's code snapshot (the job's
`working_dir`), with `MODELYARD_SERVER_URL` and `MODELYARD_TOKEN` (a token scoped to the run)
in its environment. Everything else comes from the workspace server over REST, so nothing
assumes the workspace's disk: the job spec (`system/job.json`, read as an artifact), the run's
transitions (Preparing → Running → Finalizing → end), heartbeats, the checkpoints of an earlier
attempt, and at the end `./outputs` and `checkpoints/` uploaded as artifacts. The script sees a
job environment with the server's URL in place of a workspace folder, so `Run.get_context()`
inside it reports over REST with the same token.

The script's output passes through to this process's own (Ray's job log, which the backend
reads as the run's log). A stop (`ray job stop`, Modelyard's cancel) is SIGTERM to the whole
tree: the script gets it too, may save a checkpoint, and the run ends Canceled. A preemption
reaches it as the local supervisor learns of it, from a heartbeat (the server's answer says the
run is Preempted): the script gets SIGTERM, a kill after the grace period, its checkpoints are
uploaded, and then this process puts the run back in the queue over REST (`POST
/runs/{id}/requeue`, which its run's token may do); should that call fail, the server's reaper
requeues the run once Ray says this job ended. Ray ends this process when the job's own
supervisor (an actor in a Ray worker) dies, but not always: a head that crashes takes the
watcher Ray leaves for that with it. So this process watches its parents too: once they are
gone, its Ray job is lost, and it stops the script, saves the checkpoints and exits without
recording an end, leaving that to the server, which can tell why (its reaper: the cluster no
longer answers, or Ray says how the job ended). The pip packages of the job's environment are
installed by Ray (`runtime_env`), so the script runs with this process's interpreter. Exit
status: 0 when the run ended Completed or was preempted (this attempt ended as asked), 1
otherwise, so that Ray's own status agrees with the run's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path
from types import FrameType
from typing import IO, Any

import psutil

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidTransition, InvalidValue, ModelyardError, NotFound
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.runtime.job_command import ERROR_TAIL_LINES, failure_reason, job_command
from modelyard.runtime.job_env import SERVER_URL_ENV, TOKEN_ENV, remote_job_environment
from modelyard.runtime.job_error import reported_failure
from modelyard.services import scheduling
from modelyard.services.remote import open_remote_workspace
from modelyard.services.run_files import JOB_SPEC
from modelyard.services.workspaces import OpenWorkspace

CHECKPOINTS = "checkpoints"
OUTPUTS = "outputs"
_CHUNK = 64 * 1024
_TAIL_BYTES = 64 * 1024  # enough for the last lines of the log in a failure's reason
_PARENT_POLL_S = 1.0


class RemoteSupervisor:
    """Runs the job whose code is in `code` (this process's working folder, Ray's copy of the
    snapshot) for run `run_id` of the workspace `ws` opened over REST."""

    def __init__(self, ws: OpenWorkspace, run_id: str, code: Path, token: str) -> None:
        self.ws = ws
        self.run_id = run_id
        self.code = code
        self.token = token
        # Ray shares one unpacked working_dir between jobs with the same code: each run works
        # in a copy of its own, as the local supervisor does.
        self.scratch = Path(tempfile.mkdtemp(prefix=f"modelyard-{run_id}-"))
        self.workdir = self.scratch / "code"
        self.checkpoints = self.scratch / CHECKPOINTS
        self.error_file = self.scratch / "error.json"
        self.terminating = threading.Event()
        self._sigterm_seen = False
        self.preempted = threading.Event()
        self.orphaned = threading.Event()  # the Ray processes above this one are gone
        self.done = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None
        self.log_tail: deque[bytes] = deque()
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
        exit_status = 0
        threading.Thread(
            target=self._watch_ray_parents, name="modelyard-parents", daemon=True
        ).start()
        try:
            self.attempt = self._transition(RunStatus.PREPARING).attempt
            heartbeat.start()
            spec = self._read_spec()
            self._prepare()
            exit_code = self._execute(spec)
            exit_status = self._finish(exit_code)
        except _Canceled:
            exit_status = self._end(RunStatus.CANCELED)
        except _Preempted:
            self._save_checkpoints()
            self.requeue_when_done = True
        except _Orphaned:
            self._save_checkpoints()
            exit_status = 1  # no end recorded: the server's reaper knows why better
        finally:
            self.done.set()
            heartbeat.stop()
            shutil.rmtree(self.scratch, ignore_errors=True)
        # Only now: the next attempt may start as soon as the run is queued again, and nothing
        # of this one (its heartbeat, its uploads) may outlive that moment.
        if self.requeue_when_done:
            self._requeue()
        return exit_status

    def _on_beat(self, run: Run) -> None:
        if run.status is RunStatus.PREEMPTED and not self.preempted.is_set():
            self.preempted.set()
            self._stop_child(self.ws.settings.cancel_grace_s)

    def _watch_ray_parents(self) -> None:
        """Stop the script once the Ray processes this one runs under are gone."""
        lineage = _parents()
        while not self.done.wait(_PARENT_POLL_S):
            if _parents() != lineage:
                print(
                    f"modelyard remote supervisor: the Ray job of run {self.run_id} is lost (the"
                    f" Ray processes above this one, {lineage}, are gone): stopping the script;"
                    " the server records how the run ended",
                    file=sys.stderr,
                    flush=True,
                )
                self.orphaned.set()
                self._stop_child(self.ws.settings.cancel_grace_s)
                return

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
        """Back to the queue, over REST; if the server cannot be told, its reaper requeues the
        run once Ray says this job ended."""
        try:
            run = self.ws.store.get_run(self.run_id)
            if run.status is RunStatus.PREEMPTED:
                scheduling.requeue(
                    self.ws, self.run_id, RunStatus.PREEMPTED, run.status_detail or "preempted"
                )
        except ModelyardError as error:
            print(
                f"modelyard remote supervisor: run {self.run_id} not requeued ({error.message});"
                " the server requeues it once it sees this job ended",
                file=sys.stderr,
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

    def _read_spec(self) -> dict[str, Any]:
        try:
            with self.ws.artifacts.open_read(self.run_id, JOB_SPEC) as handle:
                spec = json.load(handle)
        except NotFound:
            raise NotFound(
                f"run {self.run_id} has no job definition ({JOB_SPEC}): it was not submitted as"
                " a job; submit it with `modelyard job submit`",
                run_id=self.run_id,
            ) from None
        except ValueError as error:
            raise InvalidValue(
                f"the job definition of run {self.run_id} is not JSON ({error}): submit the"
                " job again",
                run_id=self.run_id,
            ) from None
        if not isinstance(spec, dict) or not (spec.get("script") or spec.get("module")):
            raise InvalidValue(
                f"the job definition of run {self.run_id} names no script or module: submit"
                " the job again",
                run_id=self.run_id,
            )
        return spec

    def _prepare(self) -> None:
        shutil.copytree(self.code, self.workdir, symlinks=True)
        (self.workdir / OUTPUTS).mkdir(exist_ok=True)
        self.checkpoints.mkdir()
        self._restore_checkpoints()
        self._check_not_canceled()

    def _restore_checkpoints(self) -> None:
        """An earlier attempt's checkpoints (a preempted, requeued run), from the server."""
        with contextlib.suppress(NotFound):
            self.ws.artifacts.download_folder(self.run_id, CHECKPOINTS, self.checkpoints)

    def _execute(self, spec: dict[str, Any]) -> int:
        self._transition(RunStatus.RUNNING)
        environment = remote_job_environment(
            self.ws.server_url or "",
            self.token,
            self.run_id,
            checkpoint_dir=self.checkpoints,
            error_file=self.error_file,
            attempt=self.attempt,
        )
        self.child = subprocess.Popen(
            job_command(sys.executable, spec),
            cwd=self.workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.child.stdout is not None
        self._pass_output_through(self.child.stdout)
        return self.child.wait()

    def _pass_output_through(self, output: IO[bytes]) -> None:
        """Copy the script's output to ours as it comes (chunks, not lines: a progress bar's
        carriage returns show live), keeping its tail for a failure's reason."""
        kept = 0
        while chunk := os.read(output.fileno(), _CHUNK):
            with contextlib.suppress(OSError):  # nobody reading our output must not stop the job
                sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            self.log_tail.append(chunk)
            kept += len(chunk)
            while kept - len(self.log_tail[0]) >= _TAIL_BYTES:
                kept -= len(self.log_tail.popleft())
        output.close()

    def _finish(self, exit_code: int) -> int:
        self._check_not_canceled()
        self._transition(RunStatus.FINALIZING)
        self.ws.artifacts.put_folder(self.run_id, OUTPUTS, self.workdir / OUTPUTS)
        self._check_not_canceled()
        reported = reported_failure(self.error_file)
        if reported is not None:
            return self._end(RunStatus.FAILED, reported)
        if exit_code == 0:
            return self._end(RunStatus.COMPLETED)
        return self._end(RunStatus.FAILED, failure_reason(exit_code, self._last_lines()))

    def _last_lines(self) -> str:
        text = b"".join(self.log_tail).decode("utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-ERROR_TAIL_LINES:])

    def _check_not_canceled(self) -> None:
        if self.orphaned.is_set():
            raise _Orphaned
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

    def _end(self, target: RunStatus, error: str | None = None) -> int:
        """Record the end (after saving checkpoints, while the run's token still works); the
        exit status that tells Ray the same."""
        self._save_checkpoints()
        status = self._status()
        if status is RunStatus.PREEMPTED and target is not RunStatus.COMPLETED:
            self.requeue_when_done = True  # stopped for someone else: its next attempt resumes
            return 0
        if status is RunStatus.CANCEL_REQUESTED:
            target, error = RunStatus.CANCELED, None
        # Already ended by the canceller or the reaper? Their word stands.
        with contextlib.suppress(InvalidTransition):
            self.ws.store.transition_run(self.run_id, target, error=error)
        return 0 if target is RunStatus.COMPLETED else 1

    def _save_checkpoints(self) -> None:
        """The checkpoints go to the server, so that a requeued attempt on any node resumes."""
        if not self.checkpoints.is_dir() or not any(self.checkpoints.iterdir()):
            return
        try:
            self.ws.artifacts.put_folder(self.run_id, CHECKPOINTS, self.checkpoints)
        except ModelyardError as error:  # the run still ends, with what it has
            print(f"modelyard: checkpoints not saved: {error.message}", file=sys.stderr)


class _Canceled(Exception):
    """The run was asked to stop; unwinds to the supervisor's top."""


class _Preempted(Exception):
    """The run was preempted: its job stopped, it goes back to the queue."""


class _Orphaned(Exception):
    """The Ray job this process belongs to is gone (its cluster's head crashed, its node died)."""


def _parents() -> tuple[int, int]:
    """This process's parent and grandparent: Ray's job supervisor, or a shell under it whose
    own parent changes when that supervisor dies."""
    parent = os.getppid()
    try:
        return parent, psutil.Process(parent).ppid()
    except psutil.Error:
        return parent, 0


def _kill_if_running(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.kill()  # the lifeline: the script dies with it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.runtime.remote_supervisor")
    parser.add_argument("--run-id", required=True)
    options = parser.parse_args(argv)
    server_url, token = os.environ.get(SERVER_URL_ENV), os.environ.get(TOKEN_ENV)
    if not server_url or not token:
        print(
            f"modelyard remote supervisor: ${SERVER_URL_ENV} and ${TOKEN_ENV} must name the"
            " workspace server and the run's token: launch runs through a compute's backend",
            file=sys.stderr,
        )
        return 2
    try:
        ws = open_remote_workspace(server_url, token)
    except ModelyardError as error:
        print(f"modelyard remote supervisor: {error.message}", file=sys.stderr)
        return 1
    try:
        return RemoteSupervisor(ws, options.run_id, Path.cwd(), token).run()
    except ModelyardError as error:
        print(f"modelyard remote supervisor: {error.message}", file=sys.stderr)
        with contextlib.suppress(ModelyardError):
            ws.store.transition_run(options.run_id, RunStatus.FAILED, error=error.message)
        return 1
    finally:
        ws.close()


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
