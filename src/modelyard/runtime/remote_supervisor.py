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
tree: the script gets it too, may save a checkpoint, and the run ends Canceled. The pip packages
of the job's environment are installed by Ray (`runtime_env`), so the script runs with this
process's interpreter. Exit status: 0 when the run ended Completed, 1 otherwise, so that Ray's
own status agrees with the run's.
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

from modelyard.entities import RunStatus
from modelyard.errors import InvalidTransition, InvalidValue, ModelyardError, NotFound
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.runtime.job_command import ERROR_TAIL_LINES, failure_reason, job_command
from modelyard.runtime.job_env import SERVER_URL_ENV, TOKEN_ENV, remote_job_environment
from modelyard.runtime.job_error import reported_failure
from modelyard.services.remote import open_remote_workspace
from modelyard.services.run_files import JOB_SPEC
from modelyard.services.workspaces import OpenWorkspace

CHECKPOINTS = "checkpoints"
OUTPUTS = "outputs"
_CHUNK = 64 * 1024
_TAIL_BYTES = 64 * 1024  # enough for the last lines of the log in a failure's reason


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
        self.child: subprocess.Popen[bytes] | None = None
        self.log_tail: deque[bytes] = deque()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_sigterm)
        heartbeat = Heartbeat(self.ws.store, self.run_id, self.ws.settings.heartbeat_interval_s)
        try:
            self._transition(RunStatus.PREPARING)
            heartbeat.start()
            spec = self._read_spec()
            self._prepare()
            exit_code = self._execute(spec)
            return self._finish(exit_code)
        except _Canceled:
            return self._end(RunStatus.CANCELED)
        finally:
            heartbeat.stop()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _on_sigterm(self, _signum: int, _frame: FrameType | None) -> None:
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
        if self.terminating.is_set() or self._status() is RunStatus.CANCEL_REQUESTED:
            raise _Canceled

    def _status(self) -> RunStatus:
        return self.ws.store.get_run(self.run_id).status

    def _transition(self, target: RunStatus) -> None:
        try:
            self.ws.store.transition_run(self.run_id, target)
        except InvalidTransition:
            if self._status() is RunStatus.CANCEL_REQUESTED:
                raise _Canceled from None
            raise

    def _end(self, target: RunStatus, error: str | None = None) -> int:
        """Record the end (after saving checkpoints, while the run's token still works); the
        exit status that tells Ray the same."""
        self._save_checkpoints()
        if self._status() is RunStatus.CANCEL_REQUESTED:
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
