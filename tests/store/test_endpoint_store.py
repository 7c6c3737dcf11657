"""Deployments in the SQL store, on SQLite and PostgreSQL: a ray deployment's autoscaling and
its Serve application's route are kept (migration 0013), and a fixed one's are null."""

from __future__ import annotations

from modelyard.entities.endpoints import DeploymentRequest, DeploymentState, ReplicaHandle
from modelyard.services.workspaces import OpenWorkspace


def test_a_ray_deployments_autoscaling_and_route_are_kept(workspace: OpenWorkspace) -> None:
    store = workspace.sql_store
    store.create_endpoint("scorer", 40123, ("k1", "k2"))
    request = DeploymentRequest(
        endpoint="scorer",
        name="green",
        model="m:1",
        compute="raypool",
        max_replicas=3,
        target_ongoing_requests=1.5,
    ).check()
    store.create_deployment(request, "m", 1)
    application = ReplicaHandle(0, 8000, "serve:scorer.green.ab12", "http://h:8000/scorer/g")

    store.set_deployment_state("scorer", "green", DeploymentState.SUCCEEDED, replicas=[application])
    fixed = DeploymentRequest(endpoint="scorer", name="blue", model="m:1", replicas=2)
    store.create_deployment(fixed, "m", 1)
    green, blue = store.get_deployment("scorer", "green"), store.get_deployment("scorer", "blue")

    assert (green.min_replicas, green.max_replicas, green.target_ongoing_requests) == (1, 3, 1.5)
    assert green.compute == "raypool" and green.replica_handles == (application,)
    assert green.to_dict()["max_replicas"] == 3
    assert blue.autoscaling is None and blue.replicas == 2
    assert (blue.min_replicas, blue.max_replicas, blue.target_ongoing_requests) == (None,) * 3
