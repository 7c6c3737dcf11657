"""Run lifecycle use-cases: details, cancel, and the reaper that keeps run statuses honest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelyard.compute import ProcessHandle, get_backend
from modelyard.compute.processes import handle_for_this_process
from modelyard.compute.processes import is_gone as local_process_is_gone
from modelyard.entities import Run, RunData, RunStatus
from modelyard.errors import InvalidTransition
from modelyard.services import leftovers
from modelyard.services.workspaces import OpenWorkspace

_log = logging.getLogger(__name__)

STD_LOG = "logs/std_log.txt"
ENVIRONMENT_LOG = "logs/environment_build.log"
SUPERVISOR_LOG = "logs/supervisor.log"
JOB_SPEC = "system/job.json"
JOB_ERROR = "system/error.json"  # why the job failed, in its own words (runtime/job_error.py)


@dataclass(frozen=True)
class RunDetails:
    run: Run
    data: RunData

    def to_dict(self) -> dict[str, object]:
        return {
            **self.run.to_dict(),
            "params": self.data.params,
            "tags": self.data.tags,
            "properties": self.data.properties,
            "metrics": self.data.latest_metrics,
        }


def process_handle(run: Run) -> ProcessHandle | None:
    if run.host is None or run.pid is None or run.pid_started_at is None:
        return None
    return ProcessHandle(host=run.host, pid=run.pid, started_at=run.pid_started_at)


def get_run(ws: OpenWorkspace, run_id: str) -> Run:
    reap_dead_runs(ws)
    return ws.store.get_run(run_id)


def get_run_details(ws: OpenWorkspace, run_id: str) -> RunDetails:
    run = get_run(ws, run_id)
    return RunDetails(run=run, data=ws.store.get_run_data(run_id))


def list_runs(
    ws: OpenWorkspace,
    experiment: str | None = None,
    statuses: list[RunStatus] | None = None,
    limit: int = 100,
) -> list[Run]:
    reap_dead_runs(ws)
    if experiment is not None:
        ws.store.get_experiment(experiment)  # A clear NotFound beats an empty table.
    return ws.store.list_runs(experiment, statuses=statuses, limit=limit)


# Cancel ----------------------------------------------------------------------------------------


def cancel_run(ws: OpenWorkspace, run_id: str) -> Run:
    """Ask the run to stop, stop its process tree (SIGTERM, then SIGKILL), and record Canceled."""
    if ws.server_url is not None:
        return ws.rest_store.cancel_run(run_id)  # the server owns the process
    run = ws.store.get_run(run_id)
    if run.status.is_terminal:
        return run
    if run.status is not RunStatus.CANCEL_REQUESTED:
        run = ws.store.transition_run(run_id, RunStatus.CANCEL_REQUESTED)
    handle = process_handle(run)
    if handle is not None and run.compute_target is not None:
        get_backend(run.compute_target).cancel(handle, ws.settings.cancel_grace_s)
    canceled = _settle_canceled(ws, run_id)
    if canceled.status.is_terminal:  # its supervisor removes it, unless it was killed
        leftovers.remove_working_copy(ws, run_id)
    return canceled


def _settle_canceled(ws: OpenWorkspace, run_id: str) -> Run:
    """The supervisor records Canceled itself when it gets the chance; if it was killed, we do."""
    try:
        return ws.store.transition_run(run_id, RunStatus.CANCELED)
    except InvalidTransition:
        return ws.store.get_run(run_id)  # It ended some other way first; keep that.


# The reaper ------------------------------------------------------------------------------------


def reap_dead_runs(ws: OpenWorkspace) -> list[Run]:
    """Mark runs whose heartbeat stopped: NotResponding, or Failed once their process is gone
    (stopping what that process left running, and removing its working copy). Then, at most
    once per `leftover_sweep_interval_s`, sweep what killed processes left on disk."""
    if ws.server_url is not None:
        return []  # the server reaps on its own reads, next to the processes it can see
    cutoff = datetime.now(UTC) - timedelta(seconds=ws.settings.heartbeat_timeout_s)
    changed = []
    for run in ws.store.list_runs_silent_since(cutoff):
        try:
            updated = _reap(ws, run)
        except Exception as error:  # one bad row must not fail every read of runs
            _log.warning("reaper skipped run %s (pid %r): %s", run.id, run.pid, error)
            continue
        if updated is not None:
            changed.append(updated)
    leftovers.sweep_if_due(ws)
    return changed


def _reap(ws: OpenWorkspace, run: Run) -> Run | None:
    if not _process_is_gone(run):
        return _mark_not_responding(ws, run)
    _stop_leftovers(run)  # a script outliving its supervisor (and the script's children)
    target = RunStatus.CANCELED if run.status is RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
    error = _lost_reason(run) if target is RunStatus.FAILED else None
    try:
        ended = ws.store.transition_run(run.id, target, error=error)
    except InvalidTransition:
        return None  # The run moved on while we looked: its own writer knows better.
    leftovers.remove_working_copy(ws, run.id)  # its supervisor would have, had it lived
    return ended


def _mark_not_responding(ws: OpenWorkspace, run: Run) -> Run | None:
    if run.status in (RunStatus.QUEUED, RunStatus.NOT_RESPONDING):
        return None
    try:
        return ws.store.transition_run(run.id, RunStatus.NOT_RESPONDING)
    except InvalidTransition:
        return None


def _stop_leftovers(run: Run) -> None:
    """Only for runs a compute launched: their process leads a session of its own, which
    holds the job and nothing else (an interactive run's process shares the user's)."""
    handle = process_handle(run)
    if handle is not None and run.compute_target is not None:
        get_backend(run.compute_target).cancel(handle, grace_s=0)


def _process_is_gone(run: Run) -> bool:
    handle = process_handle(run)
    if handle is None:
        return False
    if run.compute_target is None:
        return bool(local_process_is_gone(handle))
    return bool(get_backend(run.compute_target).is_gone(handle))


def _lost_reason(run: Run) -> str:
    last = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "never"
    where = f" (see {SUPERVISOR_LOG})" if run.compute_target else ""
    return (
        f"the run's process (pid {run.pid} on {run.host}) is gone without reporting an end;"
        f" last heartbeat: {last}{where}"
    )


# Runs driven from the calling process (interactive runs, child runs) ---------------------------


def start_interactive_run(
    ws: OpenWorkspace,
    experiment: str,
    *,
    user: str,
    display_name: str | None = None,
    parent_id: str | None = None,
) -> Run:
    """A Running run owned by this process: the reaper fails it if this process dies."""
    run = ws.store.create_run(
        experiment,
        user=user,
        display_name=display_name,
        parent_id=parent_id,
        status=RunStatus.RUNNING,
    )
    handle = handle_for_this_process()
    ws.store.record_process(run.id, handle.host, handle.pid, handle.started_at)
    return ws.store.get_run(run.id)


def end_run(ws: OpenWorkspace, run_id: str, status: RunStatus, error: str | None = None) -> Run:
    """Record how a run owned by this process ended; a run that has already ended keeps its end."""
    run = ws.store.get_run(run_id)
    if run.status.is_terminal:
        return run
    if run.status is RunStatus.CANCEL_REQUESTED:
        status, error = RunStatus.CANCELED, None
    try:
        return ws.store.transition_run(run_id, status, error=error)
    except InvalidTransition:
        return ws.store.get_run(run_id)
