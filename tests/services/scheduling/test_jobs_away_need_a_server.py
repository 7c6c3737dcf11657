"""A compute whose jobs run away from this machine (Ray) needs the workspace's server for them
to report to: creating one, and launching a run on one, are refused alike where this process
knows no server (`scheduling.check_served_for`; a pipeline's step on one is refused the same
way, in tests/compute/test_ray_pipeline_steps.py)."""

from __future__ import annotations

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, ComputeType, ProvisioningState
from modelyard.errors import ComputeUnavailable
from modelyard.services import computes, scheduling
from modelyard.services.workspaces import OpenWorkspace

ADDRESS = "http://127.0.0.1:1"  # never asked: the refusal comes first


def test_a_ray_compute_is_not_created_where_no_server_serves_the_workspace(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    request = ComputeRequest(name="ray-b", type=ComputeType.RAY, address=ADDRESS)
    with pytest.raises(ComputeUnavailable) as refused:
        computes.create_compute(ws, request)
    assert refused.value.message == (
        "creating compute ray-b, whose jobs run away from this machine and report to the"
        " workspace's server, and this request does not go through one: start `modelyard"
        " server` and create ray-b through it"
    )
    assert [compute.name for compute in ws.compute_store.list_computes()] == ["local"]


def test_a_run_launched_on_ray_without_a_server_fails_saying_so(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    # A ray compute made while a server served the workspace, launched on from without one.
    ws.compute_store.create_compute(
        ComputeRequest(name="ray-a", type=ComputeType.RAY, address=ADDRESS)
    )
    ws.compute_store.set_compute_state("ray-a", ProvisioningState.SUCCEEDED)
    run = ws.store.create_run("e", user="ana", compute_target="ray-a", status=RunStatus.QUEUED)
    started = ws.store.transition_run(run.id, RunStatus.STARTING)
    ended = scheduling.launch(ws, started)
    assert ended.status is RunStatus.FAILED
    assert ended.error == (
        f"launch on ray-a failed: run {run.id} is launched on compute ray-a, whose jobs run"
        " away from this machine and report to the workspace's server, and this launch does"
        " not go through one: start `modelyard server` and submit the job through it"
    )


def test_a_local_compute_needs_no_server(sqlite_workspace: OpenWorkspace) -> None:
    assert (
        scheduling.check_served_for(
            sqlite_workspace, "local", ComputeType.LOCAL, "run x is launched on", "launch", "-"
        )
        is None
    )
