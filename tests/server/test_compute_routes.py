"""Compute targets over a real server (uvicorn on 127.0.0.1, auth on), on SQLite and PostgreSQL:
each route's role, a Failed compute keeping its name (409 COMPUTE_ERRORED), the size catalog,
and the services of a workspace behind the server going through these routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Role, RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.errors import ComputeErrored, Conflict, InvalidValue, NotFound
from modelyard.server import create_app
from modelyard.services import auth, computes
from modelyard.services import runs as run_service
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from server.portal_support import sleeping_jobs
from server.serving import serve

API = "/api/v1"
SMALL = "Standard_DS1_v2"  # 1 vCPU, 3.5 GiB: fits any test host
# The figures Azure lists (vCPU, memory GiB, temp storage GiB, GPUs, GPU memory GiB, max data
# disks, max NICs).
AZURE_FIGURES = {
    "Standard_NC12": (12, 112, 680, 2, 24, 48, 2),
    "Standard_NC24": (24, 224, 1440, 4, 48, 64, 4),
}


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(workspace)
    assert admin is not None
    auth.create_user(workspace, "ana", Role.CONTRIBUTOR)
    auth.create_user(workspace, "rita", Role.READER)
    run = workspace.store.create_run("jobs", user="ana", status=RunStatus.RUNNING)
    return {
        "admin": admin,
        "contributor": auth.create_token(workspace, "laptop", "ana")[1],
        "reader": auth.create_token(workspace, "laptop", "rita")[1],
        "job": auth.create_run_token(workspace, run)[1],
    }


@pytest.fixture
def base(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as url:
        yield url + API


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _create(base: str, token: str, **body: object) -> httpx.Response:
    return httpx.post(f"{base}/computes", json=body, headers=_as(token), timeout=60)


def test_each_role_does_what_it_may_on_computes(base: str, tokens: dict[str, str]) -> None:
    reader, contributor, admin = tokens["reader"], tokens["contributor"], tokens["admin"]
    refused = _create(base, reader, name="cpu-pool", size=SMALL)
    assert refused.status_code == 403
    created = _create(base, contributor, name="cpu-pool", size=SMALL, max_nodes=2)
    assert created.status_code == 200, created.text
    assert (created.json()["state"], created.json()["max_nodes"]) == ("Succeeded", 2)

    for token in (reader, contributor, admin):
        names = [c["name"] for c in httpx.get(f"{base}/computes", headers=_as(token)).json()]
        assert names == ["local", "cpu-pool"]
        shown = httpx.get(f"{base}/computes/cpu-pool", headers=_as(token)).json()
        assert (shown["nodes_in_use"], shown["running"], shown["queue"]) == (0, [], [])
        assert httpx.get(f"{base}/compute-sizes", headers=_as(token)).status_code == 200
    # A job's token reaches its own run only, nothing workspace-wide.
    assert httpx.get(f"{base}/computes", headers=_as(tokens["job"])).status_code == 403

    # Preempting is a contributor's; a dedicated compute's jobs are never preempted.
    preempt = f"{base}/computes/cpu-pool/preempt"
    assert httpx.post(preempt, json={}, headers=_as(reader)).status_code == 403
    dedicated = httpx.post(preempt, json={}, headers=_as(contributor))
    assert dedicated.status_code == 409 and dedicated.json()["code"] == "CONFLICT"

    # Deleting is an admin's.
    for token in (reader, contributor):
        assert httpx.delete(f"{base}/computes/cpu-pool", headers=_as(token)).status_code == 403
    deleted = httpx.delete(f"{base}/computes/cpu-pool", headers=_as(admin))
    assert deleted.status_code == 200 and deleted.json() == {"deleted": "cpu-pool"}
    gone = httpx.get(f"{base}/computes/cpu-pool", headers=_as(admin))
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"


def test_a_failed_compute_keeps_its_name_with_409_compute_errored(
    base: str, tokens: dict[str, str]
) -> None:
    contributor = tokens["contributor"]
    # No test host has the two GPUs of this size: provisioning fails, the compute stays.
    failed = _create(base, contributor, name="gpu-pool", size="Standard_NC12")
    assert failed.status_code == 200, failed.text
    assert failed.json()["state"] == "Failed"
    assert "lacks what size Standard_NC12 needs" in failed.json()["errors"][0]
    listed = httpx.get(f"{base}/computes", headers=_as(contributor)).json()
    assert [(c["name"], c["state"]) for c in listed if c["name"] == "gpu-pool"] == [
        ("gpu-pool", "Failed")
    ]
    again = _create(base, contributor, name="gpu-pool", size=SMALL)
    assert again.status_code == 409
    assert again.json()["code"] == "COMPUTE_ERRORED"
    message = again.json()["message"]
    assert "use a different name" in message
    assert "`modelyard compute delete gpu-pool` and retry" in message
    # Deleting it frees the name.
    assert httpx.delete(f"{base}/computes/gpu-pool", headers=_as(tokens["admin"])).is_success
    assert _create(base, contributor, name="gpu-pool", size=SMALL).json()["state"] == "Succeeded"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "bad_name!"}, 400, "invalid compute name"),
        ({"name": "x" * 17}, 422, "name"),
        ({"name": "ok-name", "size": "Standard_Nope"}, 400, "not in the catalog"),
        ({"name": "ok-name", "min_nodes": 3, "max_nodes": 2}, 400, "min must be at most max"),
        ({"name": "ok-name", "priority": "urgent"}, 400, "dedicated or low-priority"),
        ({"name": "ok-name", "type": "kubernetes"}, 400, "use one of local, ray"),
        ({"name": "ok-name", "max_nodes": 5000}, 422, "max_nodes"),
        ({"name": "ok-name", "description": "d" * 5000}, 422, "description"),
        ({"name": "ok-name", "type": "ray"}, 400, "needs its cluster's address"),
    ],
)
def test_requests_wrong_in_themselves_create_nothing(
    base: str, tokens: dict[str, str], body: dict[str, object], status: int, words: str
) -> None:
    answer = _create(base, tokens["contributor"], **body)
    assert answer.status_code == status, answer.text
    assert words in answer.text
    names = [c["name"] for c in httpx.get(f"{base}/computes", headers=_as(tokens["admin"])).json()]
    assert names == ["local"]


def test_the_size_catalog_has_azures_figures(base: str, tokens: dict[str, str]) -> None:
    sizes = httpx.get(f"{base}/compute-sizes", headers=_as(tokens["reader"])).json()
    by_name = {size["name"]: size for size in sizes}
    columns = (
        "vcpus",
        "memory_gib",
        "temp_storage_gib",
        "gpus",
        "gpu_memory_gib",
        "max_data_disks",
        "max_nics",
    )
    for name, figures in AZURE_FIGURES.items():
        assert tuple(by_name[name][column] for column in columns) == figures
    assert any(size["gpus"] == 0 and size["vcpus"] <= 2 for size in sizes)  # fits a laptop


def test_a_workspace_behind_the_server_manages_computes_through_it(
    workspace: OpenWorkspace, base: str, tokens: dict[str, str]
) -> None:
    remote = open_remote_workspace(base.removesuffix(API), tokens["contributor"])
    try:
        made = computes.create_compute(
            remote, ComputeRequest("lowpri", size=SMALL, priority=Priority.LOW_PRIORITY)
        )
        assert made.state is ProvisioningState.SUCCEEDED
        assert computes.get_compute(workspace, "lowpri") == made  # the server's own record
        assert [c.name for c in computes.list_computes(remote)] == ["local", "lowpri"]

        # A queued run on it, as the server's queue holds it, seen from the client.
        run = workspace.store.create_run("queue", user="ana", compute_target="lowpri")
        workspace.store.transition_run(run.id, RunStatus.QUEUED)
        details = computes.compute_details(remote, "lowpri")
        assert [queued.id for queued in details.queued] == [run.id]
        assert details.to_dict()["queue"][0]["id"] == run.id

        # Nothing runs there: preempting it answers no run; one named run must be running.
        assert computes.preempt(remote, "lowpri") == []
        with pytest.raises(Conflict, match="is not running on compute lowpri"):
            computes.preempt(remote, "lowpri", run.id)
        assert run_service.list_attempts(remote, run.id) == []
        with pytest.raises(InvalidValue, match="invalid compute name"):
            computes.create_compute(remote, ComputeRequest("no way"))
        with pytest.raises(NotFound):
            computes.compute_details(remote, "nope")
        # Deleting needs an admin; the server's rule, answered as its own error.
        with pytest.raises(Exception, match="admin") as refused:
            computes.delete_compute(remote, "lowpri", force=True)
        assert refused.value.__class__.__name__ == "PermissionDenied"
    finally:
        remote.close()

    admin = open_remote_workspace(base.removesuffix(API), tokens["admin"])
    try:
        with pytest.raises(Conflict, match="still has queued or running jobs"):
            computes.delete_compute(admin, "lowpri")
        computes.delete_compute(admin, "lowpri", force=True)  # cancels the queued run first
        assert workspace.store.get_run(run.id).status is RunStatus.CANCELED
        with pytest.raises(NotFound):
            computes.get_compute(admin, "lowpri")
        computes.create_compute(admin, ComputeRequest("gpu-pool", size="Standard_NC24"))
        with pytest.raises(ComputeErrored, match="use a different name"):
            computes.create_compute(admin, ComputeRequest("gpu-pool"))
    finally:
        admin.close()


def test_a_runs_attempts_are_its_readers(
    workspace: OpenWorkspace, base: str, tokens: dict[str, str]
) -> None:
    run = workspace.store.create_run("jobs", user="ana", status=RunStatus.RUNNING)
    for token in (tokens["reader"], tokens["contributor"]):
        answer = httpx.get(f"{base}/runs/{run.id}/attempts", headers=_as(token))
        assert answer.status_code == 200 and answer.json() == []
    # A job's token: its own run's only.
    others = httpx.get(f"{base}/runs/{run.id}/attempts", headers=_as(tokens["job"]))
    assert others.status_code in (401, 403)
    missing = httpx.get(f"{base}/runs/{'0' * 32}/attempts", headers=_as(tokens["reader"]))
    assert missing.status_code == 404


def test_a_full_compute_says_who_holds_its_node_and_who_waits_and_why(
    base: str, tokens: dict[str, str], workspace: OpenWorkspace, tmp_path: Path
) -> None:
    """What the portal's compute page shows (it was a server-rendered page's test): real jobs,
    one holding the only node, the next one queued with its reason."""
    computes.create_compute(workspace, ComputeRequest("one-node", max_nodes=1))
    with sleeping_jobs(workspace, tmp_path / "project", "one-node", 2) as (first, second):
        assert second.status is RunStatus.QUEUED
        shown = httpx.get(f"{base}/computes/one-node", headers=_as(tokens["reader"])).json()
        listed = httpx.get(f"{base}/runs/{second.id}", headers=_as(tokens["reader"])).json()
    assert [run["id"] for run in shown["running"]] == [first.id]
    assert shown["running"][0]["attempt"] == 1
    assert [run["id"] for run in shown["queue"]] == [second.id] and shown["nodes_in_use"] == 1
    assert "waiting for a node on one-node: 0 ahead" in shown["queue"][0]["status_detail"]
    assert listed["compute_target"] == "one-node" and listed["status"] == "Queued"
    assert "waiting for a node on one-node" in listed["status_detail"]
