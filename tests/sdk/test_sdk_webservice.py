"""The v1 deployment SDK as Azure's users write it: Model.deploy, InferenceConfig,
LocalWebservice (RayWebservice's deploys run against Ray: tests/compute); real replicas and real
HTTP on 127.0.0.1, on a workspace of this machine and on one behind a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from endpoint_support import SCORE_PY, endpoints_cleaned_up
from modelyard import (
    AuthError,
    DeploymentFailed,
    InferenceConfig,
    InvalidValue,
    LocalWebservice,
    Model,
    NotFound,
    RayWebservice,
    Workspace,
)
from modelyard.server import create_app
from modelyard.services import auth, endpoints
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.create("sdk-ws", path=str(tmp_path / "ws"))
    try:
        yield workspace
    finally:
        for endpoint in endpoints.list_endpoints(workspace._opened):
            endpoints.delete_endpoint(workspace._opened, endpoint.name)


def _model(ws: Workspace, tmp_path: Path, factor: int) -> Model:
    folder = tmp_path / f"model{factor}"
    folder.mkdir()
    (folder / "weights.json").write_text(json.dumps({"factor": factor}))
    return Model.register(ws, folder, "double")


def _inference(tmp_path: Path) -> InferenceConfig:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "score.py").write_text(SCORE_PY)
    return InferenceConfig(entry_script="score.py", source_directory=str(source))


def test_deploy_run_keys_update_and_delete(ws: Workspace, tmp_path: Path) -> None:
    model = _model(ws, tmp_path, 2)

    service = Model.deploy(
        ws, "doubler", [model], _inference(tmp_path), LocalWebservice.deploy_configuration()
    )
    service.wait_for_deployment(show_output=True)

    assert service.state == "Healthy"
    assert service.scoring_uri.endswith("/score") and service.swagger_uri.endswith(".json")
    assert service.run(json.dumps({"x": 4}))["y"] == 8
    assert service.run({"x": 5})["y"] == 10
    primary, secondary = service.get_keys()
    service.regen_key("Primary")
    assert service.get_keys()[0] != primary and service.get_keys()[1] == secondary
    assert service.run({"x": 1})["y"] == 2  # the SDK calls with the current key
    assert "Traceback" not in service.get_logs()

    service.update(models=[_model(ws, tmp_path, 3)])
    assert service.run({"x": 1})["y"] == 3
    service.delete()
    assert endpoints.list_endpoints(ws._opened) == []


def test_a_failing_init_raises_with_the_scripts_traceback(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DeploymentFailed, match="ValueError: factor -2 is negative"):
        Model.deploy(ws, "doubler", [_model(ws, tmp_path, -2)], _inference(tmp_path))
    with pytest.raises(Exception, match="factor -2 is negative"):
        LocalWebservice(ws, "doubler").wait_for_deployment()


def test_a_wrong_key_is_refused(ws: Workspace, tmp_path: Path) -> None:
    service = Model.deploy(ws, "doubler", [_model(ws, tmp_path, 2)], _inference(tmp_path))
    answer = httpx.post(service.scoring_uri, json={"x": 1}, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert answer.json()["code"] == AuthError.code


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[OpenWorkspace, str, str]]:
    """A server's workspace (on its machine), its URL and an admin's token."""
    workspace = create_workspace("served-ws", path=tmp_path / "server-side")
    try:
        token = auth.ensure_admin(workspace)
        assert token is not None
        with endpoints_cleaned_up(workspace), serve(create_app(workspace)) as url:
            yield workspace, url, token
    finally:
        workspace.close()


def test_a_connected_workspace_deploys_on_the_server(
    served: tuple[OpenWorkspace, str, str], tmp_path: Path
) -> None:
    server_ws, url, token = served
    with Workspace.connect(url, token) as ws:
        service = Model.deploy(ws, "doubler", [_model(ws, tmp_path, 2)], _inference(tmp_path))
        service.wait_for_deployment()

        assert service.state == "Healthy" and service.scoring_uri.startswith("http://127.0.0.1:")
        assert service.run({"x": 4})["y"] == 8
        running = server_ws.endpoint_store.get_deployment("doubler", "default")
        assert Path(running.source_directory or "").is_relative_to(server_ws.root)  # sent there
        service.update(models=[_model(ws, tmp_path, 3)])  # the same code, a new model
        assert service.run({"x": 4})["y"] == 12
        service.delete()
        assert endpoints.list_endpoints(ws._opened) == []
    assert endpoints.list_endpoints(server_ws) == []


def test_a_web_service_on_a_compute_names_it_once_and_with_the_ray_configuration(
    ws: Workspace, tmp_path: Path
) -> None:
    model = _model(ws, tmp_path, 2)
    ray_config = RayWebservice.deploy_configuration(compute_target_name="raypool")

    with pytest.raises(InvalidValue, match="needs its ray compute"):
        Model.deploy(ws, "doubler", [model], None, RayWebservice.deploy_configuration())
    with pytest.raises(InvalidValue, match="differ"):
        Model.deploy(ws, "doubler", [model], None, ray_config, deployment_target="otherpool")
    with pytest.raises(InvalidValue, match=r"RayWebservice\.deploy_configuration"):
        Model.deploy(ws, "doubler", [model], None, None, deployment_target="raypool")
    with pytest.raises(NotFound, match="compute 'raypool' not found"):
        Model.deploy(ws, "doubler", [model], None, ray_config)
    assert endpoints.list_endpoints(ws._opened) == []
