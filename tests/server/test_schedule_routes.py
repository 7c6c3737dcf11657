"""Schedules over a real server (uvicorn on 127.0.0.1, auth on), on SQLite and PostgreSQL: readers
read; only an admin creates one naming a job file (a path on the server's machine); a
contributor changes their own, an admin any; a workspace behind the server goes through these
routes, its job uploaded with the schedule; bad input is one refusal and creates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Role
from modelyard.entities.schedules import CronTrigger
from modelyard.errors import AlreadyExists, InvalidValue
from modelyard.server import create_app
from modelyard.services import auth, schedules
from modelyard.services.remote import open_remote_workspace
from modelyard.services.schedule_jobs import job_blobs
from modelyard.services.workspaces import OpenWorkspace
from server.serving import serve

API = "/api/v1"


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(workspace)
    assert admin is not None
    auth.create_user(workspace, "ana", Role.CONTRIBUTOR)
    auth.create_user(workspace, "bo", Role.CONTRIBUTOR)
    auth.create_user(workspace, "rita", Role.READER)
    return {
        "admin": admin,
        "ana": auth.create_token(workspace, "laptop", "ana")[1],
        "bo": auth.create_token(workspace, "laptop", "bo")[1],
        "reader": auth.create_token(workspace, "laptop", "rita")[1],
    }


@pytest.fixture
def base(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as url:
        yield url + API


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "hello.py").write_text("print('fired')\n")
    path = tmp_path / "job.yml"
    path.write_text("experiment_name: scheduled\ncommand: python hello.py\n")
    return path


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _body(name: str, job: Path) -> dict[str, object]:
    return {
        "name": name,
        "trigger": {"type": "cron", "expression": "0 2 * * *", "time_zone": "Europe/Berlin"},
        "create_job": str(job),
    }


def test_each_role_does_what_it_may_on_schedules(
    base: str, tokens: dict[str, str], job: Path, workspace: OpenWorkspace
) -> None:
    for role in ("reader", "ana"):
        refused = httpx.post(f"{base}/schedules", json=_body("n1", job), headers=_as(tokens[role]))
        assert refused.status_code == 403, role
    created = httpx.post(f"{base}/schedules", json=_body("n2", job), headers=_as(tokens["admin"]))
    assert created.status_code == 200, created.text
    assert (created.json()["created_by"], created.json()["enabled"]) == ("admin", True)
    httpx.delete(f"{base}/schedules/n2", headers=_as(tokens["admin"])).raise_for_status()
    # ana's own schedule, made on the server's machine:
    berlin = CronTrigger(expression="0 2 * * *", time_zone="Europe/Berlin")
    schedules.create_schedule(workspace, schedules.JobSchedule("nightly", berlin, job), user="ana")
    for token in tokens.values():
        listed = httpx.get(f"{base}/schedules", headers=_as(token)).json()
        assert [s["name"] for s in listed] == ["nightly"]
        shown = httpx.get(f"{base}/schedules/nightly", headers=_as(token)).json()
        assert (shown["trigger"]["time_zone"], shown["fires"]) == ("Europe/Berlin", [])
    # Another contributor may not change ana's schedule; an admin may.
    others = httpx.post(f"{base}/schedules/nightly/disable", headers=_as(tokens["bo"]))
    assert others.status_code == 403 and "belongs to 'ana'" in others.text
    disabled = httpx.post(f"{base}/schedules/nightly/disable", headers=_as(tokens["admin"]))
    assert (disabled.status_code, disabled.json()["enabled"]) == (200, False)
    enabled = httpx.post(f"{base}/schedules/nightly/enable", headers=_as(tokens["ana"]))
    assert enabled.json()["next_fire_at"] is not None
    assert httpx.delete(f"{base}/schedules/nightly", headers=_as(tokens["bo"])).status_code == 403
    gone = httpx.delete(f"{base}/schedules/nightly", headers=_as(tokens["ana"]))
    assert gone.json() == {"deleted": "nightly"}
    missing = httpx.get(f"{base}/schedules/nightly", headers=_as(tokens["reader"]))
    assert missing.status_code == 404


def test_a_workspace_behind_the_server_manages_schedules_through_the_routes(
    base: str, tokens: dict[str, str], job: Path, workspace: OpenWorkspace
) -> None:
    remote = open_remote_workspace(base.removesuffix(API), tokens["admin"])
    try:
        request = schedules.JobSchedule(
            name="nightly", trigger=CronTrigger(expression="0 2 * * *"), create_job=job
        )
        made = schedules.create_schedule(remote, request)
        assert made.created_by == "admin"
        # The job travelled with the schedule: stored on the server, named with its hash.
        stored = workspace.schedule_store.get_schedule("nightly")
        assert (stored.job_file, stored.job_sha256) == ("job.yml", made.job_sha256)
        assert _stored_jobs(workspace) == [stored.job_sha256]
        with pytest.raises(AlreadyExists, match="schedule 'nightly' already exists"):
            schedules.create_schedule(remote, request)
        assert _stored_jobs(workspace) == [stored.job_sha256]  # no second archive
        with pytest.raises(InvalidValue, match="invalid hour '25'"):
            schedules.create_schedule(
                remote,
                schedules.JobSchedule("bad", CronTrigger(expression="0 25 * * *"), job),
            )
        assert [s.name for s in schedules.list_schedules(remote)] == ["nightly"]
        assert schedules.schedule_details(remote, "nightly").fires == []
        assert not schedules.set_enabled(remote, "nightly", False).enabled
        schedules.delete_schedule(remote, "nightly")
        assert schedules.list_schedules(remote) == []
        assert _stored_jobs(workspace) == []  # its archive went with it
    finally:
        remote.close()


def _stored_jobs(workspace: OpenWorkspace) -> list[str]:
    return job_blobs(workspace).blobs_older_than(-1)  # all of them
