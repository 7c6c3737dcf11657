"""`modelyard sweep resume` and `modelyard run resume` from a project connected to a real server
(uvicorn on 127.0.0.1, auth on): the sweep's driver and trials run on the server's machine,
the resume goes through `POST /runs/{id}/resume`, and the refusals come back as one line (409
for a sweep that completed, 403 for someone else's, 400 for a run that is no sweep)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.commands import modelyard
from cli.sweep_files import ONE_SLOW_TRIAL_AT_A_TIME, TRAIN
from modelyard.entities import Role, RunStatus
from modelyard.server import create_app
from modelyard.services import auth, runs
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from polling import wait_for
from server.serving import serve


@dataclass(frozen=True)
class Served:
    ws: OpenWorkspace  # the server's own workspace, on its machine
    url: str
    project: Path  # a client's folder, connected to the server as the contributor "carl"
    tokens: dict[str, str]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    ws = create_workspace("served-ws", path=tmp_path / "server-side")
    try:
        tokens = _tokens(ws)
        project = tmp_path / "client"
        project.mkdir()
        (project / "train.py").write_text(textwrap.dedent(TRAIN))
        (project / "sweep.yml").write_text(ONE_SLOW_TRIAL_AT_A_TIME)
        with serve(create_app(ws)) as url:
            monkeypatch.setenv("MODELYARD_TOKEN", tokens["carl"])
            modelyard("workspace", "connect", url, cwd=project)
            yield Served(ws, url, project, tokens)
    finally:
        ws.close()


def _tokens(ws: OpenWorkspace) -> dict[str, str]:
    auth.ensure_admin(ws)
    tokens = {}
    for name, role in (("carl", Role.CONTRIBUTOR), ("dana", Role.CONTRIBUTOR)):
        auth.create_user(ws, name, role)
        tokens[name] = auth.create_token(ws, "laptop", name)[1]
    auth.create_user(ws, "rita", Role.READER)
    tokens["rita"] = auth.create_token(ws, "laptop", "rita")[1]
    return tokens


def _runs(project: Path) -> list[dict[str, Any]]:
    return list(json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout))


def _resume_as(served: Served, user: str, run_id: str, job: str | None) -> httpx.Response:
    return httpx.post(
        f"{served.url}/api/v1/runs/{run_id}/resume",
        json={"job": job},
        headers={"Authorization": f"Bearer {served.tokens[user]}"},
        timeout=60,
    )


def test_a_canceled_sweep_resumes_through_the_server_and_runs_no_trial_twice(
    served: Served,
) -> None:
    project = served.project
    modelyard("job", "create", "-f", "sweep.yml", cwd=project)
    [parent] = [run for run in _runs(project) if run["parent_id"] is None]
    wait_for(
        lambda: any(
            run["parent_id"] == parent["id"] and run["status"] in ("Running", "Completed")
            for run in _runs(project)
        ),
        timeout=180,
    )
    modelyard("run", "cancel", parent["id"], cwd=project)
    assert served.ws.store.get_run(parent["id"]).status is RunStatus.CANCELED

    # Only the sweep's owner (or an admin) may resume it, as only they may cancel it.
    assert _resume_as(served, "rita", parent["id"], "sweep").status_code == 403
    assert _resume_as(served, "dana", parent["id"], "sweep").status_code == 403
    not_automl = _resume_as(served, "carl", parent["id"], "automl")
    assert not_automl.status_code == 400
    assert "is not an AutoML run (it runs modelyard.builtin_jobs.sweep)" in not_automl.text
    assert served.ws.store.get_run(parent["id"]).status is RunStatus.CANCELED  # refused: as was

    result = modelyard("sweep", "resume", parent["id"], "--stream", cwd=project)
    assert f"Resumed sweep {parent['id']} as attempt 2." in result.stdout
    assert "Trials (maximize accuracy; 3 of 3 ended)" in result.stdout
    final = served.ws.store.get_run(parent["id"])
    assert final.status is RunStatus.COMPLETED and final.attempt == 2
    [earlier] = runs.list_attempts(served.ws, final.id)
    assert earlier.outcome is RunStatus.CANCELED
    children = served.ws.store.list_runs(parent_id=final.id)
    assert len(children) == 3
    lrs = {served.ws.store.get_run_data(child.id).params["lr"] for child in children}
    assert len(lrs) == 3  # no trial's params ran twice
    # The trial the cancel stopped stays canceled (with why); the others ran once each.
    statuses = sorted(child.status.value for child in children)
    assert statuses in (["Completed"] * 3, ["Canceled", "Completed", "Completed"])

    again = modelyard("sweep", "resume", parent["id"], cwd=project, check=False)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"error: sweep {parent['id']} has completed: nothing to resume; submit a new sweep to"
        " try more"
    ]
    trial = modelyard("run", "resume", children[0].id, cwd=project, check=False)
    assert trial.returncode == 1
    assert "which cannot be resumed: only a sweep, an AutoML run or a pipeline" in trial.stderr
