"""Submitting a sweep and resuming one whose driver stopped."""

from __future__ import annotations

from modelyard.entities import Run, RunStatus
from modelyard.errors import Conflict, InvalidTransition, InvalidValue
from modelyard.services import jobs, scheduling
from modelyard.services.runs import get_run, process_is_gone
from modelyard.services.sweeps.leaderboard import check_is_sweep
from modelyard.services.sweeps.samplers import require_sampling_extra
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.workspaces import OpenWorkspace


def submit_sweep(ws: OpenWorkspace, sweep: SweepJob, user: str | None = None) -> Run:
    """Queue the sweep's parent run, whose driver queues the trials; nothing is created when
    the sweep is wrong in itself or its trials' compute cannot take jobs."""
    sweep.validate()
    require_sampling_extra(sweep.config)
    if ws.server_url is None:  # a server checks its own computes when the driver starts
        jobs.check_compute_takes_jobs(ws, sweep.config.compute)
    return jobs.submit(ws, sweep.with_seed().to_module_job(), user=user)


def resume_sweep(ws: OpenWorkspace, run_id: str) -> Run:
    """Queue a sweep whose driver died or was stopped (Failed or Canceled) again, as its next
    attempt: its new driver carries on from the trials recorded in the store."""
    if ws.server_url is not None:
        raise InvalidValue(
            "sweep resume works on the workspace's own machine: run it there, naming the"
            " workspace's folder with --workspace",
            run_id=run_id,
        )
    check_is_sweep(ws, run_id)
    run = _settled(ws, get_run(ws, run_id))
    if run.status is RunStatus.COMPLETED:
        raise Conflict(
            f"sweep {run.id} has completed: nothing to resume; submit a new sweep to try more",
            run_id=run.id,
        )
    if not run.status.is_resumable:
        raise Conflict(
            f"sweep {run.id} is {run.status.value}, its driver still at work: nothing to"
            f" resume; follow it with `modelyard run logs {run.id} --follow`",
            run_id=run.id,
        )
    cause = run.error or f"the sweep was {run.status.value.lower()}"
    resumed = ws.compute_store.resume_run(run.id, f"resumed by the user after: {cause}")
    scheduling.schedule_pass(ws)
    return ws.store.get_run(resumed.id)


def _settled(ws: OpenWorkspace, run: Run) -> Run:
    """A sweep still marked active whose driver's process is gone (killed, and the reaper has
    not waited out its heartbeat yet) is recorded Failed now, as the reaper would."""
    if not run.status.is_active:
        return run
    gone, why = process_is_gone(ws, run)
    if not gone:
        return run
    error = why or "its driver's process is gone without reporting an end"
    try:
        return ws.store.transition_run(run.id, RunStatus.FAILED, error=error)
    except InvalidTransition:  # it ended meanwhile: its own writer's word stands
        return ws.store.get_run(run.id)
