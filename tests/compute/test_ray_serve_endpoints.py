"""Deployments on a ray compute against the session's real Ray head (`conftest.py`): Ray Serve
applications behind the endpoint's front on this machine, with real HTTP on 127.0.0.1. The no-code
image scorer serves through the front with the endpoint's keys, autoscaled as asked; traffic
splits and pins between a local and a ray deployment of one endpoint; an update is a new
application before the old one goes; a failing init() fails on the cluster with its traceback;
deleting removes the applications from Serve. The head has 2 CPUs: replicas ask for a quarter."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from compute.conftest import RayHead
from endpoint_support import (
    endpoints_cleaned_up,
    register_factor_model,
    script_request,
    source_dir,
)
from modelyard import ComputeTarget, InferenceConfig, Model, RayWebservice, Workspace
from modelyard.compute.ray.serve_cluster import ServeCluster
from modelyard.entities.compute import ComputeRequest, ComputeType
from modelyard.entities.compute import ComputeTarget as ComputeRecord
from modelyard.entities.endpoints import PIN_HEADER, DeploymentRequest, DeploymentState
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import ComputeUnavailable, DeploymentFailed
from modelyard.services import computes, endpoints, models
from modelyard.services.workspaces import OpenWorkspace
from modelyard.serving.preflight import sample_image
from vision.conftest import TINY_LABELS

pytest_plugins = ["vision.conftest"]

SMALL = {"cpu_cores": 0.25, "memory_gb": 0.25}  # four replicas fit the head's 2 CPUs


@pytest.fixture
def ws(sqlite_workspace: OpenWorkspace) -> Iterator[OpenWorkspace]:
    """A workspace whose endpoints (and so their Serve applications) are deleted after."""
    with endpoints_cleaned_up(sqlite_workspace):
        yield sqlite_workspace


@pytest.fixture
def ray_pool(ws: OpenWorkspace, ray_head: RayHead) -> ComputeRecord:
    return _ray_compute(ws, "raypool", ray_head.address)


def test_an_image_classifier_on_ray_serves_its_endpoint_autoscaled_and_goes_when_deleted(
    ws: OpenWorkspace, ray_pool: ComputeRecord, tiny_onnx_model: Path, tiny_label_map: Path
) -> None:
    folder = ws.root.parent / "flowers-model"
    folder.mkdir()
    for source in (tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    models.register_model(ws, folder, ModelVersionRequest("flowers"))
    request = DeploymentRequest(
        endpoint="flowers",
        name="blue",
        model="flowers:1",
        compute=ray_pool.name,
        min_replicas=1,
        max_replicas=2,
        **SMALL,  # type: ignore[arg-type]
    )

    deployment = endpoints.deploy(ws, request)
    endpoint = endpoints.get_endpoint(ws, "flowers")
    (replica,) = deployment.replica_handles
    app = replica.serve_application
    answer = _score(endpoint.scoring_uri, endpoint.primary_key, sample_image(), "image/png")

    assert deployment.state is DeploymentState.SUCCEEDED
    assert deployment.compute == "raypool" and deployment.autoscaling is not None
    assert (deployment.min_replicas, deployment.max_replicas) == (1, 2)
    assert app is not None and replica.url is not None
    served = _serve_deployment(ray_pool, app)
    assert served["deployment_config"]["autoscaling_config"]["min_replicas"] == 1
    assert served["deployment_config"]["autoscaling_config"]["max_replicas"] == 2
    assert served["deployment_config"]["ray_actor_options"]["num_cpus"] == 0.25
    assert answer.status_code == 200, answer.text
    assert answer.headers[PIN_HEADER] == "blue"
    assert answer.json()["Prediction"] in TINY_LABELS
    assert set(answer.json()["Score"]) == set(TINY_LABELS)
    running = endpoints.health(ws, endpoint, [deployment]).replicas_running["blue"]
    assert 1 <= running <= 2  # Serve's own count, between the autoscaling bounds
    [(listed, _, listed_health)] = endpoints.list_with_health(ws)
    assert listed.name == "flowers" and 1 <= listed_health.replicas_running["blue"] <= 2
    assert _score(endpoint.scoring_uri, "not-a-key").status_code == 401
    # Serve's route itself wants the front's replica key, as a local replica's port does.
    assert _score(f"{replica.url}/score", endpoint.primary_key).status_code == 401

    endpoints.delete_endpoint(ws, "flowers")

    assert ServeCluster(ray_pool).application(app) is None


def test_traffic_pins_and_updates_between_a_local_and_a_ray_deployment(
    ws: OpenWorkspace, ray_pool: ComputeRecord, tmp_path: Path
) -> None:
    doubler = register_factor_model(ws, tmp_path, 2)
    tripler = register_factor_model(ws, tmp_path, 3)
    endpoints.deploy(ws, script_request(tmp_path, doubler, "blue"))
    green = endpoints.deploy(
        ws, script_request(tmp_path, tripler, "green", compute=ray_pool.name, **SMALL)
    )
    endpoint = endpoints.get_endpoint(ws, "scorer")
    key = endpoint.primary_key

    assert _score(endpoint.scoring_uri, key, pin="blue").json()["y"] == 6
    assert _score(endpoint.scoring_uri, key, pin="green").json()["y"] == 9
    endpoints.set_traffic(ws, "scorer", {"blue": 0, "green": 100})
    assert _score(endpoint.scoring_uri, key).json()["y"] == 9
    new_key = endpoints.regen_key(ws, "scorer", "primary")["primaryKey"]
    assert _score(endpoint.scoring_uri, key, pin="green").status_code == 401
    assert _score(endpoint.scoring_uri, new_key, pin="green").json()["y"] == 9

    quadrupler = register_factor_model(ws, tmp_path, 4)
    updated = endpoints.update_deployment(ws, green.to_request(model=quadrupler))
    (old,), (new,) = green.replica_handles, updated.replica_handles

    assert _score(endpoint.scoring_uri, new_key).json()["y"] == 12
    assert new.serve_application != old.serve_application
    assert old.serve_application and new.serve_application
    cluster = ServeCluster(ray_pool)
    assert cluster.application(old.serve_application) is None
    assert cluster.application(new.serve_application) is not None

    endpoints.set_traffic(ws, "scorer", {"blue": 100, "green": 0})
    endpoints.delete_deployment(ws, "scorer", "green")

    assert cluster.application(new.serve_application) is None
    assert [d.name for d in endpoints.list_deployments(ws, "scorer")] == ["blue"]
    assert _score(endpoint.scoring_uri, new_key).json()["y"] == 6


def test_a_failing_init_fails_on_the_cluster_with_its_traceback_and_leaves_nothing(
    ws: OpenWorkspace, ray_pool: ComputeRecord, tmp_path: Path
) -> None:
    broken = register_factor_model(ws, tmp_path, -1)
    request = script_request(tmp_path, broken, "blue", compute=ray_pool.name, **SMALL)

    with pytest.raises(DeploymentFailed) as raised:
        endpoints.deploy(ws, request)

    message = raised.value.message
    assert "preflight on ray compute raypool" in message.splitlines()[0]
    assert "ValueError: factor -1 is negative" in message
    assert endpoints.get_deployment(ws, "scorer", "blue").state is DeploymentState.FAILED
    applications = ServeCluster(ray_pool).details().get("applications", {})
    assert not [name for name in applications if name.startswith("scorer.blue.")]


def test_a_ray_compute_that_does_not_answer_is_one_line_at_once(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    address = f"http://127.0.0.1:{_closed_port()}"
    compute = ws.compute_store.create_compute(
        ComputeRequest("deadray", ComputeType.RAY, address=address)
    )
    model = register_factor_model(ws, tmp_path, 2)

    with pytest.raises(ComputeUnavailable) as raised:
        endpoints.deploy(ws, script_request(tmp_path, model, "blue", compute=compute.name))

    message = raised.value.message
    assert address in message and "--address" in message and "\n" not in message
    failed = endpoints.get_deployment(ws, "scorer", "blue")
    assert failed.state is DeploymentState.FAILED and failed.error == message


# Helpers ---------------------------------------------------------------------------------------


def _ray_compute(ws: OpenWorkspace, name: str, address: str) -> ComputeRecord:
    """A ray compute as `compute create --type ray` makes it (without the workspace server its
    jobs would need: a deployment reports to no one)."""
    created = ws.compute_store.create_compute(
        ComputeRequest(name, ComputeType.RAY, size="Standard_DS1_v2", address=address).check()
    )
    return computes.provision(ws, created)


def _score(
    uri: str,
    key: str,
    body: bytes = b'{"x": 3}',
    content_type: str = "application/json",
    pin: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    if pin:
        headers[PIN_HEADER] = pin
    return httpx.post(uri, content=body, headers=headers, timeout=60)


def _serve_deployment(compute: ComputeRecord, app: str) -> Any:
    """What Serve itself says of the application's one deployment."""
    return ServeCluster(compute).details()["applications"][app]["deployments"]["scorer"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sdk_deploys_a_ray_web_service_as_azures_aks_one(
    ray_head: RayHead, tmp_path: Path
) -> None:
    workspace = Workspace.create("sdk-ray-ws", path=str(tmp_path / "ws"))
    opened = workspace._opened
    with endpoints_cleaned_up(opened):
        pool = ComputeTarget(workspace, _ray_compute(opened, "raypool", ray_head.address).name)
        model = Model(workspace, register_factor_model(opened, tmp_path, 5))
        source = source_dir(tmp_path)
        config = RayWebservice.deploy_configuration(
            autoscale_enabled=True, autoscale_max_replicas=2, cpu_cores=0.25, memory_gb=0.25
        )

        service = Model.deploy(
            workspace,
            "quintuple",
            [model],
            InferenceConfig("score.py", source_directory=str(source)),
            config,
            deployment_target=pool,
        )

        assert isinstance(service, RayWebservice) and service.state == "Healthy"
        assert service.run({"x": 2})["y"] == 10
        shown = endpoints.get_deployment(opened, "quintuple", "default")
        assert shown.compute == "raypool" and (shown.min_replicas, shown.max_replicas) == (1, 2)
        (application,) = shown.replica_handles
        service.delete()
        assert application.serve_application
        assert ServeCluster(pool._record).application(application.serve_application) is None
