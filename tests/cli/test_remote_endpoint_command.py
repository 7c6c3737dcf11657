"""`modelyard deploy` and `modelyard endpoint …` from a project connected to a real server
(uvicorn on 127.0.0.1, auth on): the replicas run on the server's machine, the code goes with
the deploy from the client's folder, and `invoke` reaches the endpoint's front on the server's
host. One server for the module; every endpoint deleted after each test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.commands import modelyard
from endpoint_support import SCORE_PY, endpoints_cleaned_up
from modelyard.entities import Role
from modelyard.server import create_app
from modelyard.services import auth, endpoints
from modelyard.services import endpoint_processes as processes
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve
from vision.conftest import TINY_LABELS, save_square

pytest_plugins = ["vision.conftest"]


@dataclass(frozen=True)
class Served:
    ws: OpenWorkspace  # the server's own workspace, on its machine
    url: str
    project: Path  # a client's folder, connected to the server
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
    tiny_model_zip: Path,
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("remote-endpoints")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MODELYARD_HOME", str(root / "home"))  # conftest's home is per test
        env.delenv("MODELYARD_WORKSPACE", raising=False)
        ws = create_workspace("served-ws", path=root / "server-side")
        try:
            tokens = _tokens(ws)
            model_builder = (tiny_onnx_model, tiny_label_map, tiny_model_zip)
            project = _client_project(root / "client", model_builder)
            with serve(create_app(ws)) as url:
                modelyard("workspace", "connect", url, "--token", tokens["admin"], cwd=project)
                # double:1 doubles, double:2 multiplies by 10, negative's init() fails.
                for folder in ("flowers", "double2", "double10", "negative"):
                    name = folder.rstrip("0123456789")
                    modelyard("model", "register", folder, "--name", name, cwd=project)
                yield Served(ws, url, project, tokens)
        finally:
            ws.close()


def _tokens(ws: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    auth.create_user(ws, "rita", Role.READER)
    return {"admin": admin, "reader": auth.create_token(ws, "laptop", "rita")[1]}


def _client_project(folder: Path, model_builder_files: tuple[Path, ...]) -> Path:
    """The client's folder: an image classifier, two factor models, the scoring code."""
    (folder / "flowers").mkdir(parents=True)
    for file in model_builder_files:
        shutil.copy(file, folder / "flowers" / file.name)
    for name, factor in (("double2", 2), ("double10", 10), ("negative", -1)):
        (folder / name).mkdir()
        (folder / name / "weights.json").write_text(json.dumps({"factor": factor}))
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text(SCORE_PY)
    save_square(folder / "red.png", (220, 30, 30), (120, 90))
    (folder / "x3.json").write_text('{"x": 3}')
    return folder


@pytest.fixture
def project(served: Served, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The connected folder, as the admin (this test's home has no saved token)."""
    monkeypatch.setenv("MODELYARD_TOKEN", served.tokens["admin"])
    with endpoints_cleaned_up(served.ws):
        yield served.project


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _invoke(project: Path, name: str, *options: str) -> Any:
    answer = modelyard("endpoint", "invoke", name, *options, cwd=project)
    return json.loads(answer.stdout)


def _running(ws: OpenWorkspace, endpoint: str) -> list[str]:
    """The handles of the endpoint's processes still running on the server's machine."""
    found = ws.endpoint_store.get_endpoint(endpoint)
    handles = [found.host_handle or ""]
    for deployment in ws.endpoint_store.list_deployments(endpoint):
        handles += [replica.handle for replica in deployment.replica_handles]
    return [handle for handle in handles if handle and processes.is_running(handle)]


def test_an_image_model_deployed_through_the_server_answers_with_keys_and_roles(
    project: Path, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _json(project, "deploy", "flowers", "--model", "flowers", "--deployment", "blue")
    output = _invoke(project, "flowers", "--request-file", "red.png", "--content-type", "image/png")

    assert shown["scoring_uri"].startswith("http://127.0.0.1:")
    assert shown["deployments"][0]["state"] == "Succeeded"
    assert output["Prediction"] in TINY_LABELS and set(output["Score"]) == set(TINY_LABELS)
    assert [e["name"] for e in _json(project, "endpoint", "list")] == ["flowers"]
    old = _json(project, "endpoint", "get-keys", "flowers")
    new = _json(project, "endpoint", "regen-key", "flowers", "--key-type", "primary")
    assert new["primaryKey"] != old["primaryKey"] and new["secondaryKey"] == old["secondaryKey"]
    png = (project / "red.png").read_bytes()
    refused = httpx.post(shown["scoring_uri"], content=png, headers=_key(old["primaryKey"]))
    assert refused.status_code == 401
    assert httpx.post(shown["scoring_uri"], content=png, headers=_key(new["primaryKey"])).is_success

    monkeypatch.setenv("MODELYARD_TOKEN", served.tokens["reader"])
    as_reader = modelyard("endpoint", "get-keys", "flowers", cwd=project, check=False)
    assert as_reader.returncode == 1
    assert as_reader.stderr.strip().splitlines() == [as_reader.stderr.strip()]
    assert "'rita' is a reader" in as_reader.stderr
    assert _json(project, "endpoint", "show", "flowers")["name"] == "flowers"  # readers read

    monkeypatch.setenv("MODELYARD_TOKEN", served.tokens["admin"])
    running = _running(served.ws, "flowers")
    modelyard("endpoint", "delete", "flowers", "--yes", cwd=project)
    assert len(running) == 2 and not any(processes.is_running(h) for h in running)
    assert _json(project, "endpoint", "list") == []


def _key(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "image/png"}


def test_code_from_the_clients_folder_runs_on_the_server_and_traffic_moves(
    project: Path, served: Served
) -> None:
    code = ["--entry-script", "score.py", "--source-directory", "src"]
    modelyard("deploy", "doubler", "--model", "double:1", "--deployment", "blue", *code,
              cwd=project)  # fmt: skip
    shown = _json(project, "deploy", "doubler", "--model", "double:2", "--deployment", "green",
                  *code, "--traffic", "blue=0,green=100")  # fmt: skip

    assert shown["traffic"] == {"blue": 0, "green": 100}
    assert _invoke(project, "doubler", "--request-file", "x3.json")["y"] == 30
    pinned = _invoke(project, "doubler", "--request-file", "x3.json", "--deployment", "blue")
    assert pinned["y"] == 6
    uploaded = {d["name"]: Path(d["source_directory"]) for d in shown["deployments"]}
    code_root = served.ws.root / "endpoints" / "doubler" / "code"
    assert {folder.parent for folder in uploaded.values()} == {code_root}
    assert (uploaded["blue"] / "score.py").read_text() == SCORE_PY  # a copy on the server's side

    _json(project, "endpoint", "update", "doubler", "--traffic", "blue=100,green=0")
    assert _invoke(project, "doubler", "--request-file", "x3.json")["y"] == 6
    # An update of the model keeps the code the deployment runs (nothing sent again).
    updated = _json(project, "endpoint", "update", "doubler", "--deployment", "blue",
                    "--model", "double:2")  # fmt: skip
    assert _invoke(project, "doubler", "--request-file", "x3.json")["y"] == 30
    blue = next(d for d in updated["deployments"] if d["name"] == "blue")
    assert blue["source_directory"] == str(uploaded["blue"])

    modelyard("endpoint", "delete", "doubler", "--deployment", "green", "--yes", cwd=project)
    assert sorted(code_root.iterdir()) == [uploaded["blue"]]  # green's code went with it


def test_a_failing_init_through_the_server_is_one_line_with_its_traceback(
    project: Path, served: Served
) -> None:
    failed = modelyard(
        "deploy", "broken", "--model", "negative", "--entry-script", "score.py",
        "--source-directory", "src", cwd=project, check=False,
    )  # fmt: skip

    assert failed.returncode == 1
    assert failed.stderr.startswith("error: deployment default failed its preflight: init()")
    assert "Traceback" in failed.stderr and "ValueError: factor -1 is negative" in failed.stderr
    shown = _json(project, "endpoint", "show", "broken")
    assert shown["deployments"][0]["state"] == "Failed"
    assert shown["deployments"][0]["replica_handles"] == []
    assert list((served.ws.root / "endpoints" / "broken" / "code").iterdir()) == []
    host = endpoints.get_endpoint(served.ws, "broken").host_handle
    assert _running(served.ws, "broken") == [host]  # its front; no replica
