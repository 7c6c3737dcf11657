"""Run lifecycle use-cases: details, cancel, and the reaper that keeps run statuses honest."""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelyard.compute import BackendState, ComputeBackend, ProcessHandle, backend_for
from modelyard.compute.local.processes import handle_for_this_process
from modelyard.compute.local.processes import is_gone as local_process_is_gone
from modelyard.entities import Run, RunData, RunStatus
from modelyard.entities.records import RunAttempt
from modelyard.errors import ComputeUnavailable, InvalidTransition, InvalidValue, NotFound
from modelyard.services import leftovers, scheduling
from modelyard.services.run_files import SUPERVISOR_LOG
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import ArtifactInfo

_log = logging.getLogger(__name__)

MIN_ID_PREFIX = 4  # shorter prefixes match too much to be a useful name, as in git
SHORT_ID_LENGTH = 8  # what tables show: unique in practice, resolvable as a prefix
_CANDIDATES_SHOWN = 5
_FULL_ID = re.compile(r"[0-9a-f]{32}")
_ID_PREFIX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class RunDetails:
    run: Run
    data: RunData

    @property
    def duration_s(self) -> float | None:
        return run_duration_s(self.run)

    def to_dict(self) -> dict[str, object]:
        return {
            **self.run.to_dict(),
            "duration_s": self.duration_s,
            "params": self.data.params,
            "tags": self.data.tags,
            "properties": self.data.properties,
            "metrics": self.data.latest_metrics,
        }


def run_duration_s(run: Run, now: datetime | None = None) -> float | None:
    """From start to end, or to `now` while the run is active; None before it started."""
    if run.started_at is None:
        return None
    end = run.ended_at or (None if run.status.is_terminal else (now or datetime.now(UTC)))
    return None if end is None else max(0.0, (end - run.started_at).total_seconds())


def backend_of(ws: OpenWorkspace, run: Run) -> ComputeBackend | None:
    """The backend that launched the run, when one did and its compute still exists."""
    if run.handle is None or run.compute_target is None:
        return None
    try:
        return backend_for(ws.compute_store.get_compute(run.compute_target))
    except NotFound:
        return None


# Naming a run ------------------------------------------------------------------------------------


def resolve_run(ws: OpenWorkspace, reference: str, experiment: str | None = None) -> Run:
    """The run a user means by `reference`: its id, a unique prefix of it (at least
    MIN_ID_PREFIX characters, as git takes a commit), or its display name (`flowers_1`), within
    `experiment` when given. Every command that takes a run goes through here."""
    if _FULL_ID.fullmatch(reference) and experiment is None:
        return ws.store.get_run(reference)
    if experiment is not None:
        ws.store.get_experiment(experiment)  # a misspelt experiment is named as such
    candidates = _runs_named(ws, reference, experiment)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _no_run_named(reference, experiment)
    raise _ambiguous(reference, candidates)


def _runs_named(ws: OpenWorkspace, reference: str, experiment: str | None) -> list[Run]:
    limit = _CANDIDATES_SHOWN + 1
    found = {
        run.id: run for run in ws.store.list_runs(experiment, display_name=reference, limit=limit)
    }
    if len(reference) >= MIN_ID_PREFIX and _ID_PREFIX.fullmatch(reference):
        for run in ws.store.list_runs(experiment, id_prefix=reference, limit=limit):
            found.setdefault(run.id, run)
    return list(found.values())


def _no_run_named(reference: str, experiment: str | None) -> NotFound:
    where = f" in experiment {experiment!r}" if experiment else ""
    short = (
        f" (an id prefix needs {MIN_ID_PREFIX} characters or more)"
        if len(reference) < MIN_ID_PREFIX and _ID_PREFIX.fullmatch(reference)
        else ""
    )
    return NotFound(
        f"run {reference!r} not found{where}{short}: name a run by its id, the start of its id"
        " or its display name; list runs with `modelyard run list`",
        run_id=reference,
    )


def _ambiguous(reference: str, candidates: list[Run]) -> InvalidValue:
    shown = ", ".join(
        f"{run.id[:SHORT_ID_LENGTH]} ({run.experiment_name}/{run.display_name})"
        for run in candidates[:_CANDIDATES_SHOWN]
    )
    more = ", …" if len(candidates) > _CANDIDATES_SHOWN else ""
    return InvalidValue(
        f"run {reference!r} is ambiguous: it names {shown}{more}; give more characters of the"
        " id, or the experiment with --experiment",
        run_id=reference,
    )


# Reading ---------------------------------------------------------------------------------------


def get_run(ws: OpenWorkspace, run_id: str) -> Run:
    reap_dead_runs(ws)
    return ws.store.get_run(run_id)


def get_run_details(ws: OpenWorkspace, run_id: str) -> RunDetails:
    run = get_run(ws, run_id)
    return RunDetails(run=run, data=ws.store.get_run_data(run_id))


def list_attempts(ws: OpenWorkspace, run_id: str) -> list[RunAttempt]:
    """The run's earlier attempts (preempted, or lost and requeued), oldest first."""
    if ws.server_url is not None:
        from modelyard.store.rest_compute import RestCompute  # httpx only where a server is

        return RestCompute(ws.rest_store.client).list_attempts(run_id)
    ws.store.get_run(run_id)  # NotFound for an unknown run, not an empty list
    return ws.compute_store.list_attempts(run_id)


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


# Artifacts (through the workspace's artifact repository: local disk or the server) -------------


def list_artifacts(ws: OpenWorkspace, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
    return ws.artifacts.list(run_id, prefix)


def download_artifacts(ws: OpenWorkspace, run_id: str, path: str, destination: Path) -> list[Path]:
    """A file to `destination` (into it when it is a folder), or a folder of artifacts ("" for
    all of them) below `destination`, keeping its tree."""
    if not path or ws.artifacts.list(run_id, path):
        return ws.artifacts.download_folder(run_id, path, destination)
    return [ws.artifacts.download(run_id, path, destination)]


# Cancel ----------------------------------------------------------------------------------------


def cancel_run(ws: OpenWorkspace, run_id: str, reason: str | None = None) -> Run:
    """Ask the run to stop, stop its process tree (SIGTERM, then SIGKILL), and record Canceled.

    `reason` (a sweep's early-termination policy, say) stays as the canceled run's error; a
    user's cancel gives none."""
    if ws.server_url is not None:
        return ws.rest_store.cancel_run(run_id)  # the server owns the process
    run = ws.store.get_run(run_id)
    if run.status.is_terminal:
        return run
    if run.status is not RunStatus.CANCEL_REQUESTED:
        run = ws.store.transition_run(run_id, RunStatus.CANCEL_REQUESTED, error=reason)
    backend = backend_of(ws, run)
    if backend is not None and run.handle is not None:
        with contextlib.suppress(ComputeUnavailable):  # a cluster gone took its jobs with it
            backend.cancel(run.handle, ws.settings.cancel_grace_s)
    canceled = _settle_canceled(ws, run_id)
    if canceled.status.is_terminal:  # its supervisor removes it, unless it was killed
        leftovers.remove_working_copy(ws, run_id)
        scheduling.schedule_pass(ws)  # its node is free
    return canceled


def cancel_runs(ws: OpenWorkspace, run_ids: list[str], reason: str) -> None:
    """A parent's children canceled with `reason` (a sweep's, a pipeline's): all of them
    marked first (a moment's work; their supervisors stop a marked run at their next
    heartbeat, should this process be killed before it stops them all), then each stopped."""
    for run_id in run_ids:
        with contextlib.suppress(InvalidTransition):  # it ended meanwhile
            ws.store.transition_run(run_id, RunStatus.CANCEL_REQUESTED, error=reason)
    for run_id in run_ids:
        cancel_run(ws, run_id, reason)


def cancel_unstarted(ws: OpenWorkspace, run: Run, error: str) -> Run | None:
    """A child still NotStarted whose submitter died mid-submission: it never ran, and is
    canceled with `error`. None when it is not (or no longer) NotStarted."""
    if run.status is not RunStatus.NOT_STARTED:
        return None
    try:
        return ws.store.transition_run(run.id, RunStatus.CANCELED, error=error)
    except InvalidTransition:  # it moved on meanwhile: its submitter is alive after all
        return None


def _settle_canceled(ws: OpenWorkspace, run_id: str) -> Run:
    """The supervisor records Canceled itself when it gets the chance; if it was killed, we do."""
    try:
        return ws.store.transition_run(run_id, RunStatus.CANCELED)
    except InvalidTransition:
        return ws.store.get_run(run_id)  # It ended some other way first; keep that.


# The reaper ------------------------------------------------------------------------------------


def reap_dead_runs(ws: OpenWorkspace) -> list[Run]:
    """Mark runs whose heartbeat stopped: NotResponding, or Failed once their process is gone
    (stopping what that process left running, and removing its working copy); put back in the
    queue a preempted run whose process is gone and a launch that was lost. Then, at most once
    per `leftover_sweep_interval_s`, sweep what killed processes left on disk."""
    if ws.server_url is not None:
        return []  # the server reaps on its own reads, next to the processes it can see
    cutoff = datetime.now(UTC) - timedelta(seconds=ws.settings.heartbeat_timeout_s)
    changed = []
    for run in ws.store.list_runs_silent_since(cutoff):
        try:
            updated = _reap(ws, run)
        except Exception as error:  # one bad row must not fail every read of runs
            _log.warning("reaper skipped run %s (%s): %s", run.id, run.handle, error)
            continue
        if updated is not None:
            changed.append(updated)
    if changed:
        scheduling.schedule_pass(ws)  # what ended freed nodes
    leftovers.sweep_if_due(ws)
    return changed


def _reap(ws: OpenWorkspace, run: Run) -> Run | None:
    if run.status is RunStatus.STARTING and run.handle is None:
        cause = "its launch was lost (the process launching it stopped): it is queued again"
        return scheduling.requeue(ws, run.id, RunStatus.STARTING, cause)
    gone, why = process_is_gone(ws, run)
    if not gone:
        return _mark_not_responding(ws, run)
    _stop_leftovers(ws, run)  # a script outliving its supervisor (and the script's children)
    if run.status is RunStatus.PREEMPTED:
        cause = run.status_detail or "preempted"
        requeued = scheduling.requeue(ws, run.id, RunStatus.PREEMPTED, cause)
        leftovers.remove_working_copy(ws, run.id)
        return requeued
    target = RunStatus.CANCELED if run.status is RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
    error = (why or _lost_reason(run)) if target is RunStatus.FAILED else None
    try:
        ended = ws.store.transition_run(run.id, target, error=error)
    except InvalidTransition:
        return None  # The run moved on while we looked: its own writer knows better.
    leftovers.remove_working_copy(ws, run.id)  # its supervisor would have, had it lived
    return ended


def _mark_not_responding(ws: OpenWorkspace, run: Run) -> Run | None:
    if run.status in (RunStatus.QUEUED, RunStatus.STARTING, RunStatus.NOT_RESPONDING):
        return None
    try:
        return ws.store.transition_run(run.id, RunStatus.NOT_RESPONDING)
    except InvalidTransition:
        return None


def _stop_leftovers(ws: OpenWorkspace, run: Run) -> None:
    """Only for runs a compute launched: their process leads a session of its own, which
    holds the job and nothing else (an interactive run's process shares the user's)."""
    backend = backend_of(ws, run)
    if backend is not None and run.handle is not None:
        with contextlib.suppress(ComputeUnavailable):
            backend.cancel(run.handle, grace_s=0)


_ENDED_ON_BACKEND = frozenset(
    {BackendState.GONE, BackendState.SUCCEEDED, BackendState.FAILED, BackendState.STOPPED}
)


def process_is_gone(ws: OpenWorkspace, run: Run) -> tuple[bool, str | None]:
    """Whether nothing of the run's process or submission is left, and why, when the backend
    says more than that it is gone (a cluster that stopped answering)."""
    if run.handle is None:
        return False, None
    if run.compute_target is None:  # an interactive run: a process on some host
        return bool(local_process_is_gone(ProcessHandle.parse(run.handle))), None
    backend = backend_of(ws, run)
    if backend is None:
        return False, None
    try:
        state = backend.state(run.handle)
    except ComputeUnavailable as error:
        return True, f"compute {run.compute_target} stopped answering: {error.message}"
    return state in _ENDED_ON_BACKEND, None


def _describe_handle(handle: str | None) -> str:
    if handle is not None and handle.startswith("pid:"):
        process = ProcessHandle.parse(handle)
        return f"pid {process.pid} on {process.host}"
    return handle or "never launched"


def _lost_reason(run: Run) -> str:
    last = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "never"
    where = f" (see {SUPERVISOR_LOG})" if run.compute_target else ""
    return (
        f"the run's process ({_describe_handle(run.handle)}) is gone without reporting an end;"
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
