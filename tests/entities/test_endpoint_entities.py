"""What a deploy request may ask for (autoscaling only on a ray compute, within Serve's
bounds, one-line refusals), and the routing records' JSON, old files included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelyard.entities.endpoints import (
    Deployment,
    DeploymentRequest,
    DeploymentState,
    ReplicaHandle,
    RoutedReplica,
)
from modelyard.errors import InvalidValue


def _request(**fields: object) -> DeploymentRequest:
    return DeploymentRequest(endpoint="scorer", name="blue", model="m:1", **fields)  # type: ignore[arg-type]


def test_autoscaling_fills_in_serves_defaults_for_what_was_left_out() -> None:
    checked = _request(compute="raypool", max_replicas=4).check()

    assert checked.autoscaling is not None
    assert (checked.min_replicas, checked.max_replicas) == (1, 4)
    assert checked.target_ongoing_requests == 2.0
    assert _request(compute="raypool").check().autoscaling is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_replicas": 2}, "autoscaling (--min-replicas, --max-replicas"),
        ({"compute": "raypool", "min_replicas": 2}, "need --max-replicas"),
        ({"compute": "raypool", "min_replicas": 3, "max_replicas": 2}, "--min-replicas 3"),
        ({"compute": "raypool", "min_replicas": -1, "max_replicas": 2}, "--min-replicas -1"),
        ({"compute": "raypool", "max_replicas": 0}, "--max-replicas must be 1–256, not 0"),
        ({"compute": "raypool", "max_replicas": 2, "target_ongoing_requests": 0}, "above 0"),
        (
            {"compute": "raypool", "max_replicas": 2, "target_ongoing_requests": float("nan")},
            "above 0",
        ),
        ({"compute": "raypool", "max_replicas": 2, "replicas": 3}, "not both"),
        ({"replicas": 17}, "--replicas must be 1–16"),
        ({"compute": "raypool", "replicas": 257}, "--replicas must be 1–256"),
        ({"cpu_cores": float("nan")}, "--cpu-cores must be a positive number"),
        ({"compute": "x"}, "compute"),
    ],
)
def test_wrong_requests_are_refused_in_one_line(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        _request(**fields).check()
    assert message in raised.value.message and "\n" not in raised.value.message


def test_a_deployment_asked_again_keeps_its_compute_and_autoscaling() -> None:
    now = datetime.now(UTC)
    deployment = Deployment(
        endpoint="scorer",
        name="blue",
        model="m@champion",
        model_name="m",
        model_version=3,
        state=DeploymentState.SUCCEEDED,
        created_at=now,
        updated_at=now,
        compute="raypool",
        cpu_cores=0.5,
        min_replicas=0,
        max_replicas=5,
        target_ongoing_requests=3.0,
    )

    request = deployment.to_request(model="m:4")

    assert request.model == "m:4" and request.compute == "raypool" and request.cpu_cores == 0.5
    assert request.autoscaling == deployment.autoscaling
    assert request.check() == request


def test_routing_records_written_before_ray_deployments_read_as_local_processes() -> None:
    old_handle = {"index": 0, "port": 5001, "handle": "pid:1@h/2"}
    old_replica = {**old_handle, "deployment": "blue", "argv": ["python"], "log": "blue-0.log"}

    handle = ReplicaHandle.from_dict(old_handle)
    replica = RoutedReplica.from_dict(old_replica)

    assert handle.url is None and handle.serve_application is None
    assert replica.supervised and replica.base_url == "http://127.0.0.1:5001"


def test_a_serve_application_is_routed_by_its_url_and_left_to_ray() -> None:
    url = "http://10.0.0.5:8000/scorer/blue/ab12"
    handle = ReplicaHandle(0, 8000, "serve:scorer.blue.ab12", url)
    replica = RoutedReplica("blue", 0, 8000, handle.handle, (), "blue-ray.log", url)

    assert ReplicaHandle.from_dict(handle.to_dict()) == handle
    assert RoutedReplica.from_dict(replica.to_dict()) == replica
    assert handle.serve_application == "scorer.blue.ab12"
    assert not replica.supervised and replica.base_url == url
    assert replica.handle_record() == handle
