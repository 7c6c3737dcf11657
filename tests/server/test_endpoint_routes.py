"""An endpoint over a real server (uvicorn on 127.0.0.1, auth on): the list and show answer each
endpoint with its deployments and which of its processes run, and `POST …/invoke` scores through
the endpoint's real front with the key the server holds, relaying what the deployment answered,
refusals included, as it is. One deployment (a real replica of an entry script) serves the
module's tests, and is deleted at the end, which stops its processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from endpoint_support import endpoints_cleaned_up, register_factor_model, source_dir
from modelyard.entities import Role
from modelyard.entities.endpoints import PIN_HEADER, DeploymentRequest
from modelyard.errors import NotReady
from modelyard.server import create_app
from modelyard.server.routes.endpoints import _relayed
from modelyard.services import auth, endpoints
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

API = "/api/v1"
INVOKE = f"{API}/endpoints/scorer/invoke"


@dataclass(frozen=True)
class Served:
    base: str
    ws: OpenWorkspace
    tokens: dict[str, str]

    def post(self, path: str, role: str = "contributor", **request: object) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens[role]}"}
        headers.update(request.pop("headers", {}))  # type: ignore[call-overload]
        return httpx.post(f"{self.base}{path}", headers=headers, timeout=60, **request)  # type: ignore[arg-type]

    def get(self, path: str, role: str = "reader") -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens[role]}"}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`scorer`, whose deployment `blue` doubles x, behind a server with a token per role."""
    with pytest.MonkeyPatch.context() as env:
        # The autouse home of conftest is per test; this workspace lives for the module.
        env.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("endpoint-routes-home")))
        env.delenv("MODELYARD_WORKSPACE", raising=False)
        root = tmp_path_factory.mktemp("endpoint-routes")
        ws = create_workspace("endpoint-routes", path=root / "ws")
        try:
            with endpoints_cleaned_up(ws):
                request = DeploymentRequest(
                    endpoint="scorer",
                    name="blue",
                    model=register_factor_model(ws, root, 2),
                    entry_script="score.py",
                    source_directory=str(source_dir(root)),
                )
                endpoints.deploy(ws, request)
                with serve(create_app(ws)) as base:
                    yield Served(base, ws, _tokens(ws))
        finally:
            ws.close()


def _tokens(ws: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    auth.create_user(ws, "ana", Role.CONTRIBUTOR)
    auth.create_user(ws, "rita", Role.READER)
    return {
        "admin": admin,
        "contributor": auth.create_token(ws, "laptop", "ana")[1],
        "reader": auth.create_token(ws, "laptop", "rita")[1],
    }


def test_the_list_and_show_hold_deployments_and_what_runs(served: Served) -> None:
    listed = served.get(f"{API}/endpoints")
    shown = served.get(f"{API}/endpoints/scorer")

    assert listed.status_code == 200 and shown.status_code == 200
    assert listed.json() == [shown.json()]
    endpoint = shown.json()
    assert [d["name"] for d in endpoint["deployments"]] == ["blue"]
    assert endpoint["deployments"][0]["state"] == "Succeeded"
    assert endpoint["health"] == {"front_running": True, "replicas_running": {"blue": 1}}
    keys = endpoints.get_keys(served.ws, "scorer")
    assert not any(key in listed.text + shown.text for key in keys.values())


def test_invoke_answers_what_the_endpoint_answers_its_own_callers(served: Served) -> None:
    body = json.dumps({"x": 21})

    answer = served.post(INVOKE, content=body, headers={"content-type": "application/json"})
    direct = endpoints.invoke(served.ws, "scorer", body.encode())

    assert answer.status_code == 200, answer.text
    assert answer.json()["y"] == direct.json()["y"] == 42
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers[PIN_HEADER] == "blue"
    assert len(answer.headers["x-request-id"]) == 32


def test_an_image_travels_as_bytes_and_a_deployment_can_be_pinned(served: Served) -> None:
    octets = {"content-type": "application/octet-stream"}

    pinned = served.post(f"{INVOKE}?deployment=blue", content=b'{"x": 4}', headers=octets)
    unknown = served.post(f"{INVOKE}?deployment=green", content=b'{"x": 4}', headers=octets)

    assert pinned.status_code == 200 and pinned.json()["y"] == 8
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "deployment 'green' is not serving on endpoint scorer"


def test_a_scoring_failure_comes_back_as_the_replica_said_it(served: Served) -> None:
    answer = served.post(INVOKE, json={"not x": 1})  # run() reads ["x"]: a KeyError

    assert answer.status_code == 500
    failure = answer.json()
    assert failure["request_id"] == answer.headers["x-request-id"]
    assert f"under request id {failure['request_id']}" in failure["message"]
    assert "KeyError" in failure["message"] and "\n" not in failure["message"]


def test_invoke_is_for_contributors_and_takes_json_or_bytes_only(served: Served) -> None:
    reader = served.post(INVOKE, role="reader", json={"x": 1})
    tar = served.post(INVOKE, content=b"x", headers={"content-type": "application/x-tar"})
    missing = served.post(f"{API}/endpoints/nowhere/invoke", json={"x": 1})

    assert reader.status_code == 403 and "reader" in reader.json()["message"]
    assert tar.status_code == 415
    assert "send JSON (application/json) or an image's bytes" in tar.json()["message"]
    assert missing.status_code == 404 and "nowhere" in missing.json()["message"]


def test_a_refused_key_is_not_relayed_as_the_servers_own_401() -> None:
    """A key regenerated between reading it and the front checking it: retry, not log in."""
    refused = httpx.Response(401, json={"code": "AUTH_FAILED", "message": "not a key"})

    with pytest.raises(NotReady, match="refused its key, regenerated meanwhile"):
        _relayed("scorer", refused)
