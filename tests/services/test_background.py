"""The server's background loop: one holder of the lease at a time, and its rounds do the
scheduler's and the reaper's work without anyone reading or submitting."""

from __future__ import annotations

import time

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, ProvisioningState
from modelyard.services.background import LEASE, BackgroundLoop
from modelyard.services.workspaces import OpenWorkspace


def test_one_holder_of_the_lease_at_a_time_until_it_expires(workspace: OpenWorkspace) -> None:
    store = workspace.compute_store
    assert store.acquire_lease(LEASE, "server-a", ttl_s=60)
    assert store.acquire_lease(LEASE, "server-a", ttl_s=60)  # renewed by its holder
    assert not store.acquire_lease(LEASE, "server-b", ttl_s=60)
    assert store.acquire_lease("another-lease", "server-b", ttl_s=60)
    assert store.acquire_lease(LEASE, "server-a", ttl_s=-1)  # as if it had lapsed
    assert store.acquire_lease(LEASE, "server-b", ttl_s=60)  # taken over
    assert not store.acquire_lease(LEASE, "server-a", ttl_s=60)


def test_the_loop_fails_the_queue_of_a_compute_that_failed(workspace: OpenWorkspace) -> None:
    store = workspace.compute_store
    store.create_compute(ComputeRequest("gpu", size="Standard_NC6"))
    run = workspace.store.create_run("bg", user="u", compute_target="gpu")
    workspace.store.transition_run(run.id, RunStatus.QUEUED)
    store.set_compute_state("gpu", ProvisioningState.FAILED, ["this host lacks 1 GPUs"])
    loop = BackgroundLoop(workspace, interval_s=0.1).start()
    try:
        deadline = time.monotonic() + 30
        while workspace.store.get_run(run.id).status is RunStatus.QUEUED:
            assert time.monotonic() < deadline, "the loop never scheduled"
            time.sleep(0.05)
    finally:
        loop.stop()
    failed = workspace.store.get_run(run.id)
    assert failed.status is RunStatus.FAILED
    assert failed.error == "compute gpu failed: this host lacks 1 GPUs"


def test_a_second_loop_waits_while_the_first_holds_the_lease(workspace: OpenWorkspace) -> None:
    first = BackgroundLoop(workspace, interval_s=0.1).start()
    second = BackgroundLoop(workspace, interval_s=0.1)
    store = workspace.compute_store
    try:
        deadline = time.monotonic() + 30
        # A probe that takes the lease already lapsed (ttl < 0) leaves it free for the loop.
        while store.acquire_lease(LEASE, "probe", ttl_s=-1):
            assert time.monotonic() < deadline, "the first loop never took the lease"
            time.sleep(0.05)
        assert not store.acquire_lease(LEASE, second.holder, ttl_s=1)
    finally:
        first.stop()
