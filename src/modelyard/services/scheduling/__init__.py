"""The scheduling pass: admit queued runs where their compute has room, launch them on its
backend, preempt low-priority runs for dedicated ones, fail the queue of a failed compute.

No daemon in the embedded workspace: whoever changes the queue runs a pass (a submit, a job
ending or requeued, the reaper). A server runs it in its background loop. Passes are
idempotent, and safe when several run at once: the store decides and applies each pass in one
serialised transaction, and only the pass that moved a run to Starting launches it.
"""

from __future__ import annotations

import contextlib
import logging

from modelyard.compute import LaunchRequest, ReportingAccess, backend_for
from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import ComputeTarget, ComputeType, ProvisioningState
from modelyard.entities.scheduling import SchedulingPlan
from modelyard.errors import ComputeUnavailable, InvalidTransition, InvalidValue, ModelyardError
from modelyard.services.run_files import SUPERVISOR_LOG
from modelyard.services.scheduling.planning import Resources, needs, plan, pool_of
from modelyard.services.workspaces import SERVED_AT_ENV, OpenWorkspace
from modelyard.settings import ENV_PREFIX

_log = logging.getLogger(__name__)


def schedule_pass(ws: OpenWorkspace) -> SchedulingPlan:
    """One pass over every compute's queue; returns what it decided."""
    if ws.server_url is not None:
        return SchedulingPlan()  # the server schedules its own queue
    if not ws.store.list_runs(statuses=[RunStatus.QUEUED], limit=1):
        # Every decision is about a queued run: with none, skip the capacity reads (a Ray
        # cluster's over HTTP, nvidia-smi here) that every job's end would otherwise pay.
        return SchedulingPlan()
    store = ws.compute_store
    capacities = pool_capacities(ws, store.list_computes())
    decided, admitted = store.schedule(lambda state: plan(state, capacities))
    for run in admitted:
        launch(ws, run)
    return decided


def pool_capacities(ws: OpenWorkspace, computes: list[ComputeTarget]) -> dict[str, Resources]:
    """The total resources of each pool that a ready, sized compute draws on; a pool that does
    not answer is left out (its runs wait, and say so)."""
    capacities: dict[str, Resources] = {}
    for compute in computes:
        pool = pool_of(compute)
        if pool in capacities or needs(compute) is None:
            continue
        if compute.state is not ProvisioningState.SUCCEEDED:
            continue
        try:
            capacity = backend_for(compute).capacity()
        except ComputeUnavailable as error:
            _log.warning("scheduler: %s did not answer: %s", pool, error.message)
            continue
        capacities[pool] = Resources(capacity.cpus, capacity.memory_gib, capacity.gpus)
    return capacities


def launch(ws: OpenWorkspace, run: Run) -> Run:
    """Start an admitted (Starting) run on its compute's backend and record its handle; a
    launch that fails fails the run with the reason."""
    store = ws.compute_store
    try:
        compute = store.get_compute(run.compute_target or "")
        request = LaunchRequest(
            run_id=run.id,
            workspace_root=ws.root,
            log_path=ws.local_artifacts.run_root(run.id) / SUPERVISOR_LOG,
            compute=compute,
            attempt=run.attempt,
            reporting=_reporting_for(ws, run, compute),
            environment=_job_settings(ws, compute),
        )
        handle = backend_for(compute).launch(request)
    except (ModelyardError, OSError) as error:
        message = error.message if isinstance(error, ModelyardError) else str(error)
        with contextlib.suppress(InvalidTransition):
            ws.store.transition_run(
                run.id, RunStatus.FAILED, error=f"launch on {run.compute_target} failed: {message}"
            )
        return ws.store.get_run(run.id)
    store.record_handle(run.id, handle)
    return ws.store.get_run(run.id)


# What a job away from this machine must do as the workspace's own jobs do: beat as often as
# this workspace's reaper expects, stop within the same grace, flush metrics alike.
_JOB_SETTINGS = (
    "heartbeat_interval_s",
    "cancel_grace_s",
    "metric_flush_interval_s",
    "metric_flush_size",
)


def _job_settings(ws: OpenWorkspace, compute: ComputeTarget) -> dict[str, str]:
    """This workspace's settings for a job's supervisor on a machine that cannot read them (a
    local job opens the workspace and reads them there). A local job learns where a server
    serves the workspace, if one does: the jobs it submits (a pipeline's steps) may run on
    Ray, whose jobs report there."""
    if compute.type is ComputeType.LOCAL:
        return {} if ws.served_at is None else {SERVED_AT_ENV: ws.served_at}
    return {ENV_PREFIX + name.upper(): str(getattr(ws.settings, name)) for name in _JOB_SETTINGS}


def check_served_for(
    ws: OpenWorkspace, compute: str, kind: ComputeType, doing: str, action: str, fix: str
) -> str | None:
    """The server a job on `compute` reports to (None on `local`, whose jobs open the
    workspace here). A compute whose jobs run away from this machine needs the workspace's
    server, known to this process (`served_at`): one refusal for every place that would
    otherwise fail later. `doing` leads up to the compute's name ("step 'x' runs on"),
    `action` is what does not go through a server ("submission")."""
    if kind is ComputeType.LOCAL:
        return None
    if ws.served_at is not None:
        return ws.served_at
    raise ComputeUnavailable(
        f"{doing} compute {compute}, whose jobs run away from this machine and report to the"
        f" workspace's server, and this {action} does not go through one: {fix}",
        compute=compute,
    )


def _reporting_for(ws: OpenWorkspace, run: Run, compute: ComputeTarget) -> ReportingAccess | None:
    """A job away from the workspace's disk reports to the server with its own run's token."""
    server_url = check_served_for(
        ws,
        compute.name,
        compute.type,
        f"run {run.id} is launched on",
        "launch",
        "start `modelyard server` and submit the job through it",
    )
    if server_url is None:
        return None
    from modelyard.services.auth import create_run_token

    _, token = create_run_token(ws, run)
    return ReportingAccess(server_url=server_url, token=token)


def requeue(ws: OpenWorkspace, run_id: str, outcome: RunStatus, cause: str) -> Run | None:
    """A run whose attempt ended without ending it (its process preempted and gone, or a launch
    lost) goes back to its place in the queue, and a pass runs; None if it moved on meanwhile.

    Behind a server (a job's supervisor on a Ray node), the server does it, for a preempted
    run only: a lost launch is the server's own to find."""
    try:
        if ws.server_url is not None:
            if outcome is not RunStatus.PREEMPTED:
                raise InvalidValue(
                    f"run {run_id}: only a preempted run is requeued through the server, not a"
                    f" {outcome.value} one; the server's reaper requeues lost launches itself",
                    run_id=run_id,
                )
            return ws.rest_store.requeue_preempted(run_id, cause)
        run = ws.compute_store.requeue_run(run_id, outcome, cause)
    except InvalidTransition:
        return None
    schedule_pass(ws)
    return ws.store.get_run(run.id)


__all__ = ["launch", "pool_capacities", "requeue", "schedule_pass"]
