"""Compute targets: create (and provision), list, show, delete, preempt; the size catalog.

Two kinds of error, as in Azure: a request wrong in itself (bad name, unknown size, min > max,
a Ray compute that no server could hear from) is refused and nothing is created; a request that
fails while provisioning (the host or cluster lacks the size, Ray does not answer) leaves a
Failed compute, listed with its errors, that keeps its name until deleted.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelyard.compute import backend_for
from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import (
    SIZES,
    ComputeRequest,
    ComputeSize,
    ComputeTarget,
    ComputeType,
    Priority,
    ProvisioningState,
)
from modelyard.errors import ComputeUnavailable, Conflict, InvalidTransition
from modelyard.services import scheduling
from modelyard.services.runs import cancel_run, get_run
from modelyard.services.scheduling.planning import PREEMPTIBLE
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.store.rest_compute import RestCompute

ON_DEMAND = "preempted on demand (`modelyard compute preempt`)"


@dataclass(frozen=True)
class ComputeDetails:
    """A compute with what it is doing: the runs holding its nodes and its queue, in order."""

    compute: ComputeTarget
    running: list[Run]
    queued: list[Run]

    @property
    def nodes_in_use(self) -> int:
        return len(self.running)

    def to_dict(self, full_runs: bool = False) -> dict[str, object]:
        """`full_runs`: each run as `Run.to_dict()` (a superset of the brief form), what the
        REST route sends so that a client rebuilds the runs."""
        describe = (lambda run: run.to_dict()) if full_runs else _brief
        return {
            **self.compute.to_dict(),
            "nodes_in_use": self.nodes_in_use,
            "running": [describe(run) for run in self.running],
            "queue": [describe(run) for run in self.queued],
        }


def _brief(run: Run) -> dict[str, object]:
    return {
        "id": run.id,
        "experiment": run.experiment_name,
        "display_name": run.display_name,
        "status": run.status.value,
        "attempt": run.attempt,
        "status_detail": run.status_detail,
    }


def list_sizes() -> list[ComputeSize]:
    return sorted(SIZES.values(), key=lambda size: (size.gpus, size.vcpus, size.name))


def create_compute(ws: OpenWorkspace, request: ComputeRequest) -> ComputeTarget:
    """Create and provision a compute; returns it Succeeded, or Failed with the reason."""
    request = request.check()
    if ws.server_url is not None:
        return _remote(ws).create_compute(request)  # the server provisions it
    scheduling.check_served_for(
        ws,
        request.name,
        request.type,
        "creating",
        "request",
        f"start `modelyard server` and create {request.name} through it",
    )
    compute = ws.compute_store.create_compute(request)
    return provision(ws, compute)


def provision(ws: OpenWorkspace, compute: ComputeTarget) -> ComputeTarget:
    """Check what can really be checked: the host or cluster answers and has the size."""
    size = compute.size_spec
    try:
        capacity = backend_for(compute).capacity()
    except ComputeUnavailable as error:
        return _failed(ws, compute, error.message)
    lacking = [] if size is None else capacity.lacks(size)
    if lacking:
        where = "this host" if compute.type is ComputeType.LOCAL else f"cluster {compute.address}"
        return _failed(
            ws,
            compute,
            f"{where} lacks what size {size.name if size else '?'} needs: {', '.join(lacking)}",
        )
    ready = ws.compute_store.set_compute_state(compute.name, ProvisioningState.SUCCEEDED)
    scheduling.schedule_pass(ws)  # runs may already wait for it
    return ready


def _failed(ws: OpenWorkspace, compute: ComputeTarget, reason: str) -> ComputeTarget:
    failed = ws.compute_store.set_compute_state(compute.name, ProvisioningState.FAILED, [reason])
    scheduling.schedule_pass(ws)  # its queue fails with the reason
    return failed


def get_compute(ws: OpenWorkspace, name: str) -> ComputeTarget:
    if ws.server_url is not None:
        return _remote(ws).get_compute(name)
    return ws.compute_store.get_compute(name)


def list_computes(ws: OpenWorkspace) -> list[ComputeTarget]:
    if ws.server_url is not None:
        return _remote(ws).list_computes()
    return ws.compute_store.list_computes()


def compute_details(ws: OpenWorkspace, name: str) -> ComputeDetails:
    if ws.server_url is not None:
        compute, running, queued = _remote(ws).compute_details(name)
        return ComputeDetails(compute=compute, running=running, queued=queued)
    compute = ws.compute_store.get_compute(name)
    return _details_of(compute, _runs_on(ws, name))


def _details_of(compute: ComputeTarget, runs: list[Run]) -> ComputeDetails:
    return ComputeDetails(
        compute=compute,
        running=[run for run in runs if run.status.holds_node],
        queued=sorted(
            (run for run in runs if run.status is RunStatus.QUEUED),
            key=lambda run: (run.queued_at or run.created_at, run.created_at),
        ),
    )


def _runs_on(ws: OpenWorkspace, name: str) -> list[Run]:
    return [run for run in _unfinished_runs(ws) if run.compute_target == name]


def _unfinished_runs(ws: OpenWorkspace) -> list[Run]:
    """The runs queued on or holding a node of any compute."""
    statuses = [RunStatus.QUEUED, *(status for status in RunStatus if status.holds_node)]
    return ws.store.list_runs(statuses=statuses, limit=10_000)


def delete_compute(ws: OpenWorkspace, name: str, force: bool = False) -> None:
    """Delete a compute; with jobs queued or running, refused unless `force`, which cancels
    them cleanly first."""
    if ws.server_url is not None:
        _remote(ws).delete_compute(name, force)
        return
    if not force:
        ws.compute_store.delete_compute(name)
        return
    compute = ws.compute_store.get_compute(name)
    if compute.state is not ProvisioningState.DELETING:
        ws.compute_store.set_compute_state(name, ProvisioningState.DELETING)
    for run in _runs_on(ws, name):
        cancel_run(ws, run.id)
    ws.compute_store.delete_compute(name)


def preempt(ws: OpenWorkspace, name: str, run_id: str | None = None) -> list[Run]:
    """Preempt the low-priority compute's running jobs (or one of them), as a cloud eviction
    would: each is stopped (SIGTERM, then a kill after the grace period) and queued again, and
    its next attempt resumes from its checkpoints."""
    if ws.server_url is not None:
        return _remote(ws).preempt(name, run_id)
    compute = ws.compute_store.get_compute(name)
    if compute.priority is not Priority.LOW_PRIORITY:
        raise Conflict(
            f"compute {name} is dedicated: its jobs are never preempted; preempt a"
            " low-priority compute",
            compute=name,
        )
    running = [run for run in _runs_on(ws, name) if run.status in PREEMPTIBLE]
    if run_id is not None:
        running = [run for run in running if run.id == run_id]
        if not running:
            raise Conflict(
                f"run {run_id} is not running on compute {name}: nothing to preempt; see"
                f" `modelyard compute show {name}`",
                compute=name,
                run_id=run_id,
            )
    preempted = []
    for run in running:
        with contextlib.suppress(InvalidTransition):  # it ended or moved on meanwhile
            preempted.append(ws.compute_store.preempt_run(run.id, ON_DEMAND))
    return preempted


def wait_until_requeued(ws: OpenWorkspace, runs: list[Run], timeout_s: float) -> list[Run]:
    """Wait until none of `runs` is Preempted any more (queued again, running again, or
    ended); the runs as they are then."""
    deadline = time.monotonic() + timeout_s
    while True:
        current = [get_run(ws, run.id) for run in runs]  # through the reaper
        if all(run.status is not RunStatus.PREEMPTED for run in current):
            return current
        if time.monotonic() > deadline:
            return current
        time.sleep(ws.settings.poll_interval_s)


def _remote(ws: OpenWorkspace) -> RestCompute:
    """The server's compute routes, for a workspace behind a server (it owns the queue)."""
    from modelyard.store.rest_compute import RestCompute  # httpx only where a server is used

    return RestCompute(ws.rest_store.client)
