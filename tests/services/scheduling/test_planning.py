"""The scheduler's decisions as a pure function: queue order, node limits, shared pools,
preemption of low-priority runs for dedicated ones, and what a failed compute does to its queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import (
    ComputeTarget,
    ComputeType,
    Priority,
    ProvisioningState,
)
from modelyard.entities.scheduling import SchedulingState
from modelyard.services.scheduling.planning import Resources, plan

T0 = datetime(2026, 12, 6, tzinfo=UTC)
HOST = {"this host": Resources(cpus=4, memory_gib=16, gpus=0)}


def compute(name: str, **overrides: object) -> ComputeTarget:
    fields: dict[str, object] = {
        "name": name,
        "type": ComputeType.LOCAL,
        "size": "Standard_DS2_v2",  # 2 CPUs, 7 GiB
        "priority": Priority.DEDICATED,
        "min_nodes": 0,
        "max_nodes": 2,
        "idle_seconds_before_scaledown": 0,
        "state": ProvisioningState.SUCCEEDED,
        "created_at": T0,
    }
    fields.update(overrides)
    return ComputeTarget(**fields)  # type: ignore[arg-type]


def run(run_id: str, on: str, status: RunStatus = RunStatus.QUEUED, minute: int = 0) -> Run:
    return Run(
        id=run_id,
        experiment_id="e",
        experiment_name="e",
        number=1,
        display_name=f"e_{run_id}",
        status=status,
        created_at=T0 + timedelta(minutes=minute),
        user="u",
        compute_target=on,
        queued_at=T0 + timedelta(minutes=minute),
    )


def state(computes: list[ComputeTarget], queued: list[Run], holding: list[Run]) -> SchedulingState:
    return SchedulingState({c.name: c for c in computes}, queued, holding)


def test_a_compute_admits_in_queue_order_up_to_its_nodes() -> None:
    queued = [run(f"r{i}", "cpu", minute=i) for i in range(4)]
    decided = plan(state([compute("cpu", size="Standard_DS1_v2")], queued, []), HOST)
    assert decided.admit == ["r0", "r1"]
    assert decided.waiting["r2"] == "waiting for a node on cpu: 0 ahead (2 of 2 nodes busy)"
    assert decided.waiting["r3"].startswith("waiting for a node on cpu: 1 ahead")


def test_busy_nodes_count_whatever_holds_them() -> None:
    holding = [
        run("a", "cpu", RunStatus.RUNNING),
        run("b", "cpu", RunStatus.PREEMPTED),  # still stopping
    ]
    decided = plan(
        state([compute("cpu", size="Standard_DS1_v2")], [run("c", "cpu")], holding), HOST
    )
    assert decided.admit == []
    assert "2 of 2 nodes busy" in decided.waiting["c"]


def test_the_built_in_local_compute_has_no_limit_and_asks_for_nothing() -> None:
    local = compute("local", size=None, max_nodes=None)
    queued = [run(f"r{i}", "local", minute=i) for i in range(50)]
    decided = plan(state([local], queued, []), {})
    assert decided.admit == [f"r{i}" for i in range(50)]


def test_computes_of_one_host_share_its_cpus() -> None:
    a, b = compute("a"), compute("b")  # 2 CPUs a run, 4 on the host
    queued = [run("a1", "a", minute=0), run("b1", "b", minute=1), run("b2", "b", minute=2)]
    decided = plan(state([a, b], queued, []), HOST)
    assert decided.admit == ["a1", "b1"]
    assert decided.waiting["b2"].startswith("waiting for capacity on this host")


def test_a_pool_that_did_not_answer_makes_its_runs_wait() -> None:
    ray = compute("ray-a", type=ComputeType.RAY, address="http://127.0.0.1:1")
    decided = plan(state([ray], [run("r", "ray-a")], []), {})
    assert decided.admit == []
    assert decided.waiting["r"] == "waiting for ray cluster http://127.0.0.1:1 to answer"


def test_a_dedicated_run_preempts_the_newest_low_priority_runs_it_needs() -> None:
    cheap = compute("cheap", priority=Priority.LOW_PRIORITY)
    sure = compute("sure")
    holding = [
        run("old", "cheap", RunStatus.RUNNING, minute=0),
        run("new", "cheap", RunStatus.RUNNING, minute=1),
    ]
    decided = plan(state([cheap, sure], [run("d", "sure", minute=2)], holding), HOST)
    assert decided.admit == []
    assert list(decided.preempt) == ["new"]
    assert "a dedicated job on sure" in decided.preempt["new"]
    assert "preempted for it" in decided.waiting["d"]


def test_preemption_is_not_repeated_while_the_preempted_run_stops() -> None:
    cheap = compute("cheap", priority=Priority.LOW_PRIORITY)
    holding = [
        run("old", "cheap", RunStatus.RUNNING, minute=0),
        run("new", "cheap", RunStatus.PREEMPTED, minute=1),
    ]
    decided = plan(state([cheap, compute("sure")], [run("d", "sure")], holding), HOST)
    assert decided.preempt == {}
    assert "preempted for it" in decided.waiting["d"]


def test_dedicated_runs_are_never_preempted_and_low_priority_runs_preempt_nothing() -> None:
    cheap = compute("cheap", priority=Priority.LOW_PRIORITY)
    sure = compute("sure")
    holding = [run("s1", "sure", RunStatus.RUNNING), run("s2", "sure", RunStatus.RUNNING)]
    decided = plan(state([cheap, sure], [run("c", "cheap"), run("d", "sure")], holding), HOST)
    assert decided.preempt == {}
    assert decided.admit == []
    assert decided.waiting["c"].startswith("waiting for capacity on this host")


def test_a_run_finalizing_or_starting_is_not_preempted() -> None:
    cheap = compute("cheap", priority=Priority.LOW_PRIORITY)
    holding = [
        run("f", "cheap", RunStatus.FINALIZING, minute=0),
        run("s", "cheap", RunStatus.STARTING, minute=1),
    ]
    decided = plan(state([cheap, compute("sure")], [run("d", "sure")], holding), HOST)
    assert decided.preempt == {}


def test_a_failed_or_deleted_compute_fails_its_queue_with_the_reason() -> None:
    broken = compute("gpu", state=ProvisioningState.FAILED, errors=("this host lacks 2 GPUs",))
    queued = [run("a", "gpu"), run("b", "gone")]
    decided = plan(state([broken], queued, []), HOST)
    assert decided.fail["a"] == "compute gpu failed: this host lacks 2 GPUs"
    assert "no longer exists" in decided.fail["b"]


def test_a_creating_compute_makes_its_queue_wait() -> None:
    creating = compute("cpu", state=ProvisioningState.CREATING)
    decided = plan(state([creating], [run("a", "cpu")], []), HOST)
    assert decided.waiting["a"] == "waiting for compute cpu to be ready (Creating)"


def test_a_later_run_never_jumps_the_queue_of_its_compute() -> None:
    big = compute("big", size="Standard_DS3_v2", max_nodes=5)  # 4 CPUs: the whole host
    holding = [run("h", "big", RunStatus.RUNNING)]
    queued = [run("a", "big", minute=1), run("b", "big", minute=2)]
    decided = plan(state([big], queued, holding), HOST)
    assert decided.admit == []
    assert decided.waiting["b"].startswith("waiting for a node on big: 1 ahead")


def test_the_plan_is_the_same_for_the_same_state() -> None:
    queued = [run(f"r{i}", "cpu", minute=i) for i in range(3)]
    one = state([compute("cpu")], queued, [])
    assert plan(one, HOST) == plan(replace(one), HOST)


def test_a_dedicated_run_goes_before_an_older_low_priority_one_and_holds_its_pool() -> None:
    """Without this, a preempted run (which keeps its older place) would be admitted again into
    the room made for the dedicated run, and preempted again, for ever."""
    cheap = compute("cheap", priority=Priority.LOW_PRIORITY, size="Standard_DS3_v2")
    sure = compute("sure", size="Standard_DS3_v2")  # each takes the whole host
    queued = [run("preempted-earlier", "cheap", minute=0), run("d", "sure", minute=5)]
    decided = plan(state([cheap, sure], queued, []), HOST)
    assert decided.admit == ["d"]
    assert decided.waiting["preempted-earlier"].startswith("waiting for capacity")

    holding = [run("x", "cheap", RunStatus.PREEMPTED)]
    small = compute("small", priority=Priority.LOW_PRIORITY, size="Standard_DS1_v2")
    queued = [run("d", "sure", minute=5), run("s", "small", minute=6)]
    decided = plan(state([cheap, sure, small], queued, holding), HOST)
    assert decided.admit == []
    assert decided.waiting["s"] == "waiting: a dedicated job waits for capacity on this host"
