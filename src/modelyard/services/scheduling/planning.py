"""The scheduler's decisions, as a pure function of the queue and the capacity of each pool.

- A compute admits its queued runs in queue order (a run keeps its place when preempted), one
  node per run, while it has free nodes (`max_nodes`; the built-in `local` has no limit).
- Computes of one pool share its resources: every local compute shares this host, every Ray
  compute of one address shares that cluster. A run of a sized compute is admitted only while
  its size fits what the pool has free.
- A dedicated run that does not fit makes room by preempting low-priority runs of its pool,
  newest first; it is admitted once they are gone. Dedicated runs are never preempted, are
  considered before low-priority ones, and while one waits for room in a pool no low-priority
  run is admitted there (it would take the room being made).
- A queued run of a Failed or deleted compute fails with the reason; the others say why they
  wait ("waiting for a node on gpu-pool: 3 ahead").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import (
    ComputeSize,
    ComputeTarget,
    ComputeType,
    Priority,
    ProvisioningState,
)
from modelyard.entities.scheduling import SchedulingPlan, SchedulingState

# Where a run of a low-priority compute may be preempted: once it is Finalizing its outputs
# are nearly uploaded, and a run not started yet holds nothing worth freeing.
PREEMPTIBLE = frozenset({RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.NOT_RESPONDING})


@dataclass(frozen=True)
class Resources:
    cpus: float = 0.0
    memory_gib: float = 0.0
    gpus: int = 0

    @classmethod
    def of(cls, size: ComputeSize) -> Resources:
        return cls(float(size.vcpus), float(size.memory_gib), size.gpus)

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cpus + other.cpus, self.memory_gib + other.memory_gib, self.gpus + other.gpus
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.cpus - other.cpus, self.memory_gib - other.memory_gib, self.gpus - other.gpus
        )

    def holds(self, need: Resources) -> bool:
        slack = 1e-9
        return (
            need.cpus <= self.cpus + slack
            and need.memory_gib <= self.memory_gib + slack
            and need.gpus <= self.gpus
        )

    def describe(self) -> str:
        return f"{self.cpus:g} CPUs, {self.memory_gib:.1f} GiB, {self.gpus} GPUs"


def pool_of(compute: ComputeTarget) -> str:
    """The resources a compute shares with others: this host, or one Ray cluster."""
    if compute.type is ComputeType.RAY:
        return f"ray cluster {compute.address}"
    return "this host"


def needs(compute: ComputeTarget) -> Resources | None:
    """What one run of `compute` takes from its pool; None for the unsized built-in `local`."""
    size = compute.size_spec
    return None if size is None else Resources.of(size)


def plan(state: SchedulingState, capacities: Mapping[str, Resources]) -> SchedulingPlan:
    """Decide admissions, preemptions, waits and failures. `capacities`: each pool's total
    resources (a pool missing from it did not answer: its runs wait)."""
    decision = SchedulingPlan()
    nodes_busy = Counter(run.compute_target for run in state.holding)
    used: dict[str, Resources] = {}
    for run in state.holding:
        compute = state.computes.get(run.compute_target or "")
        need = None if compute is None else needs(compute)
        if compute is not None and need is not None:
            pool = pool_of(compute)
            used[pool] = used.get(pool, Resources()) + need
    waiting_ahead: Counter[str] = Counter()
    preempting: set[str] = {r.id for r in state.holding if r.status is RunStatus.PREEMPTED}
    awaited_pools: set[str] = set()  # where a dedicated run waits for room
    for run in _dedicated_first(state):
        name = run.compute_target or ""
        compute = state.computes.get(name)
        if compute is None:
            decision.fail[run.id] = f"compute {name!r} no longer exists: submit the job again"
            continue
        if compute.state is not ProvisioningState.SUCCEEDED:
            _not_ready(decision, run, compute)
            waiting_ahead[name] += 1
            continue
        ahead = waiting_ahead[name]
        limit = compute.max_nodes
        if ahead or (limit is not None and nodes_busy[name] >= limit):
            decision.waiting[run.id] = (
                f"waiting for a node on {name}: {ahead} ahead ({nodes_busy[name]} of {limit}"
                " nodes busy)"
            )
            waiting_ahead[name] += 1
            continue
        need = needs(compute)
        if need is None:
            decision.admit.append(run.id)
            nodes_busy[name] += 1
            continue
        pool = pool_of(compute)
        if pool not in capacities:
            decision.waiting[run.id] = f"waiting for {pool} to answer"
            waiting_ahead[name] += 1
            continue
        if compute.priority is Priority.LOW_PRIORITY and pool in awaited_pools:
            decision.waiting[run.id] = f"waiting: a dedicated job waits for capacity on {pool}"
            waiting_ahead[name] += 1
            continue
        free = capacities[pool] - used.get(pool, Resources())
        if free.holds(need):
            decision.admit.append(run.id)
            nodes_busy[name] += 1
            used[pool] = used.get(pool, Resources()) + need
            continue
        reason = f"waiting for capacity on {pool}: needs {need.describe()}; {free.describe()} free"
        if compute.priority is Priority.DEDICATED:
            awaited_pools.add(pool)
            victims = _make_room(state, pool, need, free, preempting)
            for victim in victims:
                decision.preempt[victim.id] = (
                    f"preempted: a dedicated job on {name} (run {run.display_name}) needs the"
                    f" capacity of {pool}"
                )
                preempting.add(victim.id)
            if victims or _room_coming(state, pool, need, free, preempting):
                reason = f"waiting for low-priority jobs on {pool} to stop (preempted for it)"
        decision.waiting[run.id] = reason
        waiting_ahead[name] += 1
    return decision


def _dedicated_first(state: SchedulingState) -> list[Run]:
    """The queue in the order runs are considered: dedicated computes' runs first, each in its
    place in the queue (`state.queued` is in queue order; the sort is stable)."""

    def rank(run: Run) -> int:
        compute = state.computes.get(run.compute_target or "")
        return 1 if compute is not None and compute.priority is Priority.LOW_PRIORITY else 0

    return sorted(state.queued, key=rank)


def _not_ready(decision: SchedulingPlan, run: Run, compute: ComputeTarget) -> None:
    if compute.state is ProvisioningState.FAILED:
        cause = compute.errors[-1] if compute.errors else "provisioning failed"
        decision.fail[run.id] = f"compute {compute.name} failed: {cause}"
    else:
        decision.waiting[run.id] = (
            f"waiting for compute {compute.name} to be ready ({compute.state.value})"
        )


def _low_priority_in(state: SchedulingState, pool: str) -> list[tuple[Run, Resources]]:
    found = []
    for run in state.holding:
        compute = state.computes.get(run.compute_target or "")
        need = None if compute is None else needs(compute)
        if compute is None or need is None or pool_of(compute) != pool:
            continue
        if compute.priority is Priority.LOW_PRIORITY:
            found.append((run, need))
    return found


def _make_room(
    state: SchedulingState, pool: str, need: Resources, free: Resources, preempting: set[str]
) -> list[Run]:
    """The fewest newest low-priority runs whose release (with what is already being released)
    lets `need` fit; none if even all of them would not make room."""
    candidates = _low_priority_in(state, pool)
    releasing = Resources()
    for run, taken in candidates:
        if run.id in preempting:
            releasing = releasing + taken
    if (free + releasing).holds(need):
        return []  # enough is on its way out already
    chosen: list[Run] = []
    newest_first = sorted(candidates, key=lambda item: _queued_key(item[0]), reverse=True)
    for run, taken in newest_first:
        if run.id in preempting or run.status not in PREEMPTIBLE:
            continue
        chosen.append(run)
        releasing = releasing + taken
        if (free + releasing).holds(need):
            return chosen
    return []


def _room_coming(
    state: SchedulingState, pool: str, need: Resources, free: Resources, preempting: set[str]
) -> bool:
    releasing = Resources()
    for run, taken in _low_priority_in(state, pool):
        if run.id in preempting:
            releasing = releasing + taken
    return releasing != Resources() and (free + releasing).holds(need)


def _queued_key(run: Run) -> tuple[float, float]:
    queued = run.queued_at or run.created_at
    return (queued.timestamp(), run.created_at.timestamp())
