"""The pipeline designer and its drafts over a real server (uvicorn on 127.0.0.1, auth on):
drafts saved by revision on SQLite and PostgreSQL (a stale save answered 409), read by
readers, written by contributors only, and kept byte for byte through a workspace behind the
server; the palette and checks for readers; a pipeline of registered components submitted as
the designer does, run, and its graph read with each step's state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from modelyard.entities import Role, RunStatus
from modelyard.entities.data import DataVersionRequest
from modelyard.errors import Conflict
from modelyard.server import create_app
from modelyard.services import auth, components, data, jobs
from modelyard.services.pipelines import drafts
from modelyard.services.pipelines.designer import DRAFT_PROPERTY
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import components_project
from server.serving import serve
from services.pipelines.test_pipeline_designer import COMPONENT_PIPELINE

API = "/api/v1"
DRAFTS = API + "/pipeline-drafts"
DESIGNER = API + "/pipeline-designer"
TEXT = "type: pipeline\r\nexperiment_name: drawn   # kept as typed\njobs: {}\n"
# A whole pipeline run of real processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(600)

http = httpx.Client(timeout=60)


def _tokens(ws: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    auth.create_user(ws, "ana", Role.CONTRIBUTOR)
    auth.create_user(ws, "rita", Role.READER)
    return {
        "ana": auth.create_token(ws, "laptop", "ana")[1],
        "reader": auth.create_token(ws, "laptop", "rita")[1],
    }


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    return _tokens(workspace)


@pytest.fixture
def url(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as served:
        yield served


def test_drafts_are_saved_by_revision_and_a_stale_save_is_answered_409(
    url: str, tokens: dict[str, str]
) -> None:
    ana, reader = _as(tokens["ana"]), _as(tokens["reader"])
    body = {"definition": TEXT, "layout": {"prep": {"x": 1, "y": 2.5}}}
    assert http.put(f"{url}{DRAFTS}/etl", json=body, headers=reader).status_code == 403
    created = http.put(f"{url}{DRAFTS}/etl", json=body, headers=ana)
    assert created.status_code == 200, created.text
    draft = created.json()
    assert (draft["revision"], draft["definition"], draft["created_by"]) == (1, TEXT, "ana")
    assert draft["layout"] == {"prep": {"x": 1, "y": 2.5}}
    assert draft["problem"]["field"] == "jobs"  # saved, not yet runnable

    saved = http.put(f"{url}{DRAFTS}/etl", json={"definition": TEXT, "revision": 1}, headers=ana)
    assert saved.json()["revision"] == 2 and saved.json()["layout"] == body["layout"]
    stale = http.put(f"{url}{DRAFTS}/etl", json={"definition": "a: 1", "revision": 1}, headers=ana)
    assert stale.status_code == 409
    assert "at revision 2, not revision 1" in stale.json()["message"]
    assert "reload the draft" in stale.json()["message"]
    again = http.put(f"{url}{DRAFTS}/etl", json={"definition": TEXT}, headers=ana)
    assert again.status_code == 409 and "already exists" in again.json()["message"]
    not_yaml = http.put(f"{url}{DRAFTS}/other", json={"definition": "- 1"}, headers=ana)
    assert not_yaml.status_code == 400 and "not a mapping" in not_yaml.json()["message"]

    listed = http.get(f"{url}{DRAFTS}", headers=reader).json()
    assert [(d["name"], d["revision"]) for d in listed] == [("etl", 2)]
    assert "definition" not in listed[0]
    assert http.get(f"{url}{DRAFTS}/etl", headers=reader).json()["definition"] == TEXT
    assert http.delete(f"{url}{DRAFTS}/etl", headers=reader).status_code == 403
    assert http.delete(f"{url}{DRAFTS}/etl", headers=ana).json() == {"deleted": "etl"}
    missing = http.get(f"{url}{DRAFTS}/etl", headers=reader)
    assert missing.status_code == 404 and "not found" in missing.json()["message"]


def test_a_workspace_behind_the_server_imports_and_exports_the_same_bytes(
    url: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "pipeline.yml"
    source.write_bytes(TEXT.encode())
    remote = open_remote_workspace(url, tokens["ana"])
    try:
        imported = drafts.import_draft(remote, source, name="etl")
        assert imported.draft.revision == 1 and imported.problem is not None
        drafts.export_draft(remote, "etl", tmp_path / "back.yml")
        assert (tmp_path / "back.yml").read_bytes() == source.read_bytes()
        drafts.save_draft(remote, "etl", TEXT, revision=1)
        with pytest.raises(Conflict, match="reload the draft"):
            drafts.save_draft(remote, "etl", TEXT, revision=1)
        assert [d.revision for d in drafts.list_drafts(remote)] == [2]
        drafts.delete_draft(remote, "etl")
        assert drafts.list_drafts(remote) == []
    finally:
        remote.close()


# The designer: one workspace (SQLite) with components and a data asset -------------------------


@pytest.fixture
def designed(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    ws = sqlite_workspace
    files = components_project(tmp_path / "components")
    components.create_component(ws, files["prep"])
    components.create_component(ws, files["train"])
    (tmp_path / "numbers").mkdir()
    (tmp_path / "numbers" / "a.txt").write_text("1 2 3")
    data.create_data(ws, tmp_path / "numbers", DataVersionRequest("numbers"))
    tokens = _tokens(ws)
    with serve(create_app(ws)) as served:
        yield served, tokens


def test_readers_see_the_palette_and_check_definitions(
    designed: tuple[str, dict[str, str]],
) -> None:
    url, tokens = designed
    reader = _as(tokens["reader"])
    palette = http.get(f"{url}{DESIGNER}/palette", headers=reader).json()
    assert [c["name"] for c in palette["components"]] == ["prep", "train"]
    assert palette["data_assets"][0]["name"] == "numbers"
    checked = http.post(
        f"{url}{DESIGNER}/check", json={"definition": COMPONENT_PIPELINE}, headers=reader
    ).json()
    assert checked == {"name": "etl", "experiment": "drawn", "problem": None}
    broken = COMPONENT_PIPELINE.replace("clean}}", "cleen}}")
    problem = http.post(
        f"{url}{DESIGNER}/check", json={"definition": broken}, headers=reader
    ).json()["problem"]
    assert (problem["step"], problem["field"]) == ("train", "inputs.data")
    refused = http.post(
        f"{url}{DESIGNER}/submit", json={"definition": COMPONENT_PIPELINE}, headers=reader
    )
    assert refused.status_code == 403


def test_a_designed_pipeline_is_submitted_run_and_its_graph_shows_each_step(
    designed: tuple[str, dict[str, str]], sqlite_workspace: OpenWorkspace
) -> None:
    url, tokens = designed
    ana = _as(tokens["ana"])
    folder_step = COMPONENT_PIPELINE.replace(
        "    component: azureml:prep:1\n",
        "    command: python prep.py --out ${{outputs.clean}}\n"
        "    outputs: {clean: {type: uri_folder}}\n",
    )
    refused = http.post(f"{url}{DESIGNER}/submit", json={"definition": folder_step}, headers=ana)
    assert refused.status_code == 400
    assert "step 'prep' runs code from a folder" in refused.json()["message"]
    assert sqlite_workspace.store.list_runs() == []

    body = {"definition": COMPONENT_PIPELINE, "experiment": "designer", "draft": "etl"}
    started = http.post(f"{url}{DESIGNER}/submit", json=body, headers=ana)
    assert started.status_code == 201, started.text
    run = started.json()
    assert (run["experiment"], run["user"]) == ("designer", "ana")
    properties = sqlite_workspace.store.get_run_data(run["id"]).properties
    assert properties[DRAFT_PROPERTY] == "etl"
    done = jobs.wait_for_completion(sqlite_workspace, run["id"], timeout_s=450)
    assert done.status is RunStatus.COMPLETED, done.error

    graph = http.get(f"{url}{API}/runs/{run['id']}/pipeline", headers=_as(tokens["reader"]))
    assert graph.status_code == 200, graph.text
    steps = graph.json()["steps"]
    assert [(s["name"], s["status"], s["reused"]) for s in steps] == [
        ("prep", "Completed", False),
        ("train", "Completed", False),
    ]
    assert all(s["run_id"] and s["reason"] == "first run" for s in steps)
    definition = yaml.safe_load(graph.json()["definition"])
    assert list(definition["jobs"]) == ["prep", "train"]
    assert definition["jobs"]["prep"]["component"] == "azureml:prep:1"

    child = steps[0]["run_id"]
    not_pipeline = http.get(f"{url}{API}/runs/{child}/pipeline", headers=ana)
    assert (
        not_pipeline.status_code == 404 and "not a pipeline run" in not_pipeline.json()["message"]
    )
