"""Published pipelines over a real server (uvicorn on 127.0.0.1, auth on), on SQLite and
PostgreSQL: a run is started with a bearer token and refused without one (or with a reader's);
its parameters are checked before anything is created; a workspace behind the server publishes
(the pipeline sent as an archive), lists, changes and invokes through the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Role, RunStatus
from modelyard.entities.data import DataVersionRequest
from modelyard.errors import InvalidValue
from modelyard.server import create_app
from modelyard.services import auth, data, jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines import published
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.published import Invocation
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import PIPELINE, write_project
from server.serving import serve

API = "/api/v1"
# Whole pipeline runs of real processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(600)

ROUTE = API + "/published-pipelines"


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(workspace)
    assert admin is not None
    auth.create_user(workspace, "ana", Role.CONTRIBUTOR)
    auth.create_user(workspace, "rita", Role.READER)
    return {
        "admin": admin,
        "ana": auth.create_token(workspace, "laptop", "ana")[1],
        "reader": auth.create_token(workspace, "laptop", "rita")[1],
    }


@pytest.fixture
def url(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as served:
        yield served


# A generous timeout: a pipeline's submission on a busy machine takes seconds.
http = httpx.Client(timeout=60)


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def model_text(ws: OpenWorkspace, run_id: str) -> str:
    done = jobs.wait_for_completion(ws, run_id, timeout_s=450)
    assert done.status is RunStatus.COMPLETED, done.error
    train = {s.step: s for s in pipeline_steps(ws, run_id)}["train"]
    outputs = ws.local_artifacts.run_root(train.reused_from or train.run_id) / "outputs"
    return (outputs / "model/model.txt").read_text()


def test_a_run_is_started_with_a_bearer_token_and_its_parameters_checked_first(
    url: str, tokens: dict[str, str], workspace: OpenWorkspace, tmp_path: Path
) -> None:
    job = load_job_file(write_project(tmp_path / "project"))
    assert isinstance(job, PipelineJob)
    published.publish_pipeline(workspace, job, "etl", "the ETL")
    body = {"experiment_name": "rest", "parameters": {"scale": 5}}

    assert http.post(f"{url}{ROUTE}/etl/runs", json=body).status_code == 401
    reader = http.post(f"{url}{ROUTE}/etl/runs", json=body, headers=_as(tokens["reader"]))
    assert reader.status_code == 403
    refusals = {
        "did you mean 'scale'?": {"scal": 5},
        "parameter 'scale' is integer but got 'five': give a whole number": {"scale": "five"},
        "which a caller of the server may not name": {"raw": "/etc"},
    }
    for words, parameters in refusals.items():
        refused = http.post(
            f"{url}{ROUTE}/etl/runs",
            json={"experiment_name": "rest", "parameters": parameters},
            headers=_as(tokens["ana"]),
        )
        assert refused.status_code == 400 and words in refused.json()["message"], refused.text
    assert workspace.store.list_runs() == []

    started = http.post(f"{url}{ROUTE}/etl/runs", json=body, headers=_as(tokens["ana"]))
    assert started.status_code == 201, started.text
    answer = started.json()
    assert (answer["published_pipeline"], answer["version"]) == ("etl", 1)
    assert answer["portal_url"] == f"{url}/app/runs/{answer['run_id']}"
    assert model_text(workspace, answer["run_id"]) == "model of 30"
    run = workspace.store.get_run(answer["run_id"])
    assert (run.experiment_name, run.user) == ("rest", "ana")

    for token in tokens.values():
        listed = http.get(f"{url}{ROUTE}", headers=_as(token)).json()
        assert [(p["name"], p["default_version"]) for p in listed] == [("etl", 1)]
    shown = http.get(f"{url}{ROUTE}/etl/versions/default", headers=_as(tokens["reader"]))
    assert [p["name"] for p in shown.json()["parameters"]] == ["raw", "scale"]
    missing = http.get(f"{url}{ROUTE}/etl/versions/7", headers=_as(tokens["reader"]))
    assert missing.status_code == 404 and "has no version 7" in missing.json()["message"]


def test_a_workspace_behind_the_server_publishes_and_invokes_through_the_routes(
    url: str, tokens: dict[str, str], workspace: OpenWorkspace, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    on_data = PIPELINE.replace("path: ./data", "path: 'data:numbers@latest'")
    path = write_project(project, on_data)
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    remote = open_remote_workspace(url, tokens["ana"])
    try:
        data.create_data(remote, project / "data", DataVersionRequest("numbers"))
        first = published.publish_pipeline(remote, job, "etl", "over the API")
        assert (first.version, first.created_by, first.description) == (1, "ana", "over the API")
        published.publish_pipeline(remote, job, "etl")
        assert [v.version for v in published.published_details(remote, "etl").versions] == [2, 1]
        assert published.set_default_version(remote, "etl", 1).effective_default == 1
        assert not published.set_version_enabled(remote, "etl", 1, False).enabled
        with pytest.raises(InvalidValue, match="published pipeline etl:1 is disabled"):
            published.invoke_published(remote, Invocation("etl"))
        published.set_version_enabled(remote, "etl", 1, True)
        with pytest.raises(InvalidValue, match="did you mean 'scale'"):
            published.invoke_published(
                remote, Invocation("etl", parameters={"scal": "3"}, as_text=True)
            )

        invocation = Invocation(
            "etl", version=2, experiment="remote", parameters={"scale": "4"}, as_text=True
        )
        run = published.invoke_published(remote, invocation)
        assert model_text(workspace, run.id) == "model of 24"
        properties = workspace.store.get_run_data(run.id).properties
        assert properties[published.VERSION_PROPERTY] == "2"

        from_run = published.publish_pipeline_run(remote, run.id, "etl-as-ran")
        assert (from_run.version, from_run.source_run) == (1, run.id)
        assert [p.name for p in published.list_published(remote)] == ["etl", "etl-as-ran"]
    finally:
        remote.close()
