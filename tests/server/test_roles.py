"""Roles on a real server: every route, walked from the OpenAPI document, with every kind of caller.

reader: reads only; contributor: their own runs and shared experiments; admin: everything;
a job's token: its own run and its run's direct children (started in its run's experiment
only), and a model version with its run as the lineage, while its run runs. The caller
always comes from the token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.compute.local.processes import handle_for
from modelyard.entities import Role, RunStatus
from modelyard.server import create_app
from modelyard.server.api_docs import schema_router
from modelyard.server.app import API_ROUTERS
from modelyard.server.deps import ROLE_ATTRIBUTE
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from run_processes import pid_of
from server.serving import serve

API = "/api/v1"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("roles-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def callers(ws: OpenWorkspace) -> dict[str, str]:
    """A token for each kind of caller, by label."""
    admin = auth.ensure_admin(ws)
    assert admin is not None
    auth.create_user(ws, "ana", Role.CONTRIBUTOR)
    auth.create_user(ws, "rita", "reader")
    ana_run = ws.store.create_run("shared", user="ana", status=RunStatus.RUNNING)
    _, job_token = auth.create_run_token(ws, ana_run)
    return {
        "admin": admin,
        "contributor": auth.create_token(ws, "laptop", "ana")[1],
        "reader": auth.create_token(ws, "laptop", "rita")[1],
        "job": job_token,
    }


@pytest.fixture
def base(ws: OpenWorkspace, callers: dict[str, str]) -> Iterator[str]:
    with serve(create_app(ws)) as url:
        yield url


def _operations(base: str, token: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json", headers=_bearer(token)).json()
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _call(base: str, token: str, method: str, path: str) -> httpx.Response:
    headers = _bearer(token)
    options: dict[str, object] = {}
    if method in ("POST", "PUT", "PATCH"):
        octets = "/artifacts/" in path
        headers["content-type"] = "application/octet-stream" if octets else "application/json"
        options["content"] = b"data" if octets else b"{}"
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=30, **options)  # type: ignore[arg-type]


def _concrete(path: str, run_id: str) -> str:
    path = path.replace("{run_id}", run_id).replace("{path}", "f.txt")
    return re.sub(r"\{[^}]+\}", "shared", path)


def test_every_route_declares_the_role_it_needs() -> None:
    api_routes = [route for router in API_ROUTERS for route in router.routes]
    assert len(api_routes) >= 20
    for route in [*api_routes, *schema_router.routes]:
        roles = [
            getattr(dependency.call, ROLE_ATTRIBUTE)
            for dependency in route.dependant.dependencies  # type: ignore[attr-defined]
            if hasattr(dependency.call, ROLE_ATTRIBUTE)
        ]
        assert len(roles) == 1, (route.path, route.methods)  # type: ignore[attr-defined]


def test_each_role_can_do_what_it_may_and_nothing_more(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    admin_run = ws.store.create_run("shared", user="admin", status=RunStatus.RUNNING).id
    ana_run = ws.store.list_runs("shared", statuses=[RunStatus.RUNNING])[-1].id
    operations = _operations(base, callers["admin"])
    assert len(operations) >= 20
    refused: dict[str, set[tuple[str, str, str]]] = {label: set() for label in callers}
    for label, token in callers.items():
        for method, template in operations:
            if method == "DELETE":
                continue  # deletes are checked below, once the walk no longer needs the data
            for run_id in {admin_run, ana_run} if "{run_id}" in template else {"-"}:
                answer = _call(base, token, method, _concrete(template, run_id))
                assert answer.status_code != 500, (label, method, template, answer.text)
                if answer.status_code == 403:
                    refused[label].add((method, template, run_id))
    on_runs = [(m, t) for m, t in operations if "{run_id}" in t]
    own_credentials = {("POST", f"{API}/tokens")}  # everyone's own tokens
    # Users; a schedule's job file is a path on the server's machine.
    admin_only = {
        (m, t)
        for m, t in operations
        if t == f"{API}/users" or (m, t) == ("POST", f"{API}/schedules")
    }
    # A read sent as a POST (a pipeline's YAML, too long for a URL): a reader's, as any read.
    reads_by_post = {("POST", f"{API}/pipeline-designer/check")}
    writes = [
        (m, t)
        for m, t in operations
        if m not in ("GET", "HEAD", "DELETE") and (m, t) not in own_credentials | reads_by_post
    ]

    def on(method_paths: list[tuple[str, str]] | set[tuple[str, str]], *runs: str) -> set:  # type: ignore[type-arg]
        return {
            (m, t, r) for m, t in method_paths for r in (set(runs) if "{run_id}" in t else {"-"})
        }

    assert refused["admin"] == set()
    assert refused["reader"] == on(writes, admin_run, ana_run) | on(admin_only)
    assert refused["contributor"] == {(m, t, admin_run) for m, t in writes if "{run_id}" in t} | on(
        admin_only
    )
    # A job's token: its own run, and the workspace's description (to open it), nothing else;
    # within its scope, which the route checks (the test below), starting and listing runs
    # and registering models (its run is canceled by the walk before the job's turn: 401).
    scoped = {
        ("POST", f"{API}/runs"),
        ("GET", f"{API}/runs"),
        ("POST", f"{API}/models/{{name}}/versions"),
        ("POST", f"{API}/models/{{name}}/versions/from-run"),
    }
    assert refused["job"] == {
        (m, t, r)
        for m, t in operations
        if m != "DELETE" and (m, t) != ("GET", f"{API}/workspace") and (m, t) not in scoped
        for r in ({admin_run, ana_run} if "{run_id}" in t else {"-"})
        if r != ana_run
    }
    assert on_runs


def test_deletes_of_others_work_need_an_admin(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    for experiment, user in (("anas-own", "ana"), ("mixed", "ana"), ("mixed", "admin")):
        run = ws.store.create_run(experiment, user=user, status=RunStatus.RUNNING)
        ws.store.transition_run(run.id, RunStatus.COMPLETED)
    contributor, reader = callers["contributor"], callers["reader"]
    assert _call(base, reader, "DELETE", f"{API}/experiments/anas-own").status_code == 403
    others = _call(base, contributor, "DELETE", f"{API}/experiments/mixed")
    assert others.status_code == 403 and "only an admin" in others.json()["message"]
    assert _call(base, contributor, "DELETE", f"{API}/experiments/anas-own").status_code == 200
    assert _call(base, callers["admin"], "DELETE", f"{API}/experiments/mixed").status_code == 200
    assert [e.name for e in ws.store.list_experiments()] == ["shared"]


def test_the_caller_comes_from_the_token_never_the_body(base: str, callers: dict[str, str]) -> None:
    body = {"experiment_name": "who", "user": "admin"}
    created = httpx.post(f"{base}{API}/runs", json=body, headers=_bearer(callers["contributor"]))
    assert created.status_code == 200 and created.json()["user"] == "ana"


def test_oversized_fields_are_refused_with_4xx(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    headers = _bearer(callers["contributor"])
    run = httpx.post(f"{base}{API}/runs", json={"experiment_name": "big"}, headers=headers).json()
    long_name = {"experiment_name": "big", "display_name": "n" * 10_000}
    assert httpx.post(f"{base}{API}/runs", json=long_name, headers=headers).status_code == 422
    for size in (100_000, 5 * 1024 * 1024):
        failure = {"target": "Failed", "error": "e" * size}
        answer = httpx.post(
            f"{base}{API}/runs/{run['id']}/transition", json=failure, headers=headers
        )
        assert answer.status_code in (413, 422), size
    assert ws.store.get_run(run["id"]).status is RunStatus.NOT_STARTED
    huge_user = {"name": "u" * 10_000, "role": "reader"}
    admin = _bearer(callers["admin"])
    assert httpx.post(f"{base}{API}/users", json=huge_user, headers=admin).status_code == 422


def test_a_jobs_token_dies_with_its_run(base: str, ws: OpenWorkspace) -> None:
    auth.create_user(ws, "bo", Role.CONTRIBUTOR)
    run = ws.store.create_run("jobs", user="bo", status=RunStatus.RUNNING)
    _, token = auth.create_run_token(ws, run)
    beat = httpx.post(f"{base}{API}/runs/{run.id}/heartbeat", headers=_bearer(token))
    assert beat.status_code == 200
    ws.store.transition_run(run.id, RunStatus.COMPLETED)
    late = httpx.post(f"{base}{API}/runs/{run.id}/heartbeat", headers=_bearer(token))
    assert late.status_code == 401 and "has ended" in late.json()["message"]
    # The workspace's description, which a job opens its workspace with, goes with the run too.
    assert httpx.get(f"{base}{API}/workspace", headers=_bearer(token)).status_code == 401


def test_a_jobs_token_starts_and_acts_on_children_of_its_run_and_registers_its_model(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    """What AutoML's job does on a Ray node: trials as child runs of its run, listed again when
    it resumes, and a pipeline's register_model step registers the model its run names."""
    auth.create_user(ws, "bo", Role.CONTRIBUTOR)
    run = ws.store.create_run("jobs", user="bo", status=RunStatus.RUNNING)
    other = ws.store.create_run("jobs", user="bo", status=RunStatus.RUNNING)
    _, token = auth.create_run_token(ws, run)
    job = _bearer(token)
    child = {"experiment_name": "jobs", "parent_id": run.id, "status": "Running"}
    made = httpx.post(f"{base}{API}/runs", json=child, headers=job)
    assert made.status_code == 200 and made.json()["user"] == "bo"
    beat = httpx.post(f"{base}{API}/runs/{made.json()['id']}/heartbeat", headers=job)
    assert beat.status_code == 200
    listed = httpx.get(f"{base}{API}/runs", params={"parent_id": run.id}, headers=job)
    assert [found["id"] for found in listed.json()] == [made.json()["id"]]
    for refused in (
        httpx.post(f"{base}{API}/runs", json={"experiment_name": "jobs"}, headers=job),
        httpx.post(f"{base}{API}/runs", json={**child, "parent_id": other.id}, headers=job),
        httpx.get(f"{base}{API}/runs", headers=job),
        httpx.get(f"{base}{API}/runs", params={"parent_id": other.id}, headers=job),
        httpx.post(f"{base}{API}/runs/{other.id}/heartbeat", headers=job),
    ):
        assert refused.status_code == 403, refused.text
        assert "acts on that run only" in refused.json()["message"]

    # Another experiment name would create that experiment: workspace-wide, so refused.
    elsewhere = httpx.post(
        f"{base}{API}/runs", json={**child, "experiment_name": "new"}, headers=job
    )
    assert elsewhere.status_code == 403, elsewhere.text
    assert "children go in its experiment 'jobs', not in 'new'" in elsewhere.json()["message"]
    assert "new" not in [
        e["name"]
        for e in httpx.get(f"{base}{API}/experiments", headers=_bearer(callers["admin"])).json()
    ]

    ws.artifacts.put_bytes(run.id, "outputs/model.txt", b"weights")
    ws.artifacts.put_bytes(other.id, "outputs/model.txt", b"weights")
    path = f"{base}{API}/models/kept/versions/from-run"
    assert httpx.post(path, json={"run_id": other.id}, headers=job).status_code == 403
    registered = httpx.post(path, json={"run_id": run.id}, headers=job)
    assert registered.status_code == 201, registered.text
    assert registered.json()["lineage"]["run_id"] == run.id

    ws.store.transition_run(run.id, RunStatus.COMPLETED)  # its children go with its run
    late = httpx.post(f"{base}{API}/runs/{made.json()['id']}/heartbeat", headers=job)
    assert late.status_code == 401 and "has ended" in late.json()["message"]


def test_only_an_admin_may_claim_a_process_on_the_servers_machine(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    """Else a contributor could record, say, the database server's pid for a run of theirs on
    compute 'local' and have the server kill it on cancel. An interactive run's process (no
    compute) is only watched: a client on the server's machine may record its own."""
    me = handle_for(os.getpid())
    contributor = _bearer(callers["contributor"])
    interactive = httpx.post(
        f"{base}{API}/runs", json={"experiment_name": "claims", "status": "Running"},
        headers=contributor,
    ).json()  # fmt: skip
    claim = {"host": me.host, "pid": me.pid, "pid_started_at": me.started_at}
    watched = f"{base}{API}/runs/{interactive['id']}/process"
    assert httpx.post(watched, json=claim, headers=contributor).is_success
    run = httpx.post(
        f"{base}{API}/runs",
        json={"experiment_name": "claims", "status": "Running", "compute_target": "local"},
        headers=contributor,
    ).json()
    path = f"{base}{API}/runs/{run['id']}/process"
    refused = httpx.post(path, json=claim, headers=_bearer(callers["contributor"]))
    assert refused.status_code == 403 and "admin only" in refused.json()["message"]
    assert pid_of(ws.store.get_run(run["id"])) is None
    elsewhere = {**claim, "host": "laptop.example"}
    assert httpx.post(path, json=elsewhere, headers=_bearer(callers["contributor"])).is_success
    assert httpx.post(path, json=claim, headers=_bearer(callers["admin"])).is_success


def test_users_manage_their_own_tokens_and_admins_everyones(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    admin, reader = _bearer(callers["admin"]), _bearer(callers["reader"])
    me = httpx.get(f"{base}{API}/users/me", headers=reader).json()
    assert (me["name"], me["role"], me["run_id"]) == ("rita", "reader", None)
    created = httpx.post(f"{base}{API}/tokens", json={"name": "ci"}, headers=reader).json()
    assert created["user"] == "rita" and created["token"].startswith("myd_")
    fresh = _bearer(created["token"])
    assert httpx.get(f"{base}{API}/users/me", headers=fresh).json()["name"] == "rita"
    listed = httpx.get(f"{base}{API}/tokens", headers=reader).json()
    assert {token["user"] for token in listed} == {"rita"}
    assert all("token" not in token and "secret" not in str(token) for token in listed)
    admins = [t for t in httpx.get(f"{base}{API}/tokens", headers=admin).json()]
    assert {"admin", "ana", "rita"} <= {token["user"] for token in admins}
    admin_token = next(t["id"] for t in admins if t["user"] == "admin")
    for refused in (
        httpx.delete(f"{base}{API}/tokens/{admin_token}", headers=reader),
        httpx.post(f"{base}{API}/tokens", json={"name": "x", "user": "admin"}, headers=reader),
    ):
        assert refused.status_code == 403 and "only an admin" in refused.json()["message"]
    assert httpx.delete(f"{base}{API}/tokens/{created['id']}", headers=reader).is_success
    assert httpx.get(f"{base}{API}/users/me", headers=fresh).status_code == 401
    # Users, by an admin.
    body = {"name": "bo@example.com", "role": "contributor"}
    assert httpx.post(f"{base}{API}/users", json=body, headers=reader).status_code == 403
    assert (
        httpx.post(f"{base}{API}/users", json=body, headers=admin).json()["role"] == "contributor"
    )
    for_bo = httpx.post(
        f"{base}{API}/tokens", json={"name": "laptop", "user": "bo@example.com"}, headers=admin
    ).json()
    who = httpx.get(f"{base}{API}/users/me", headers=_bearer(for_bo["token"])).json()
    assert (who["name"], who["role"]) == ("bo@example.com", "contributor")
    names = [user["name"] for user in httpx.get(f"{base}{API}/users", headers=admin).json()]
    assert names == sorted(["admin", "ana", "bo@example.com", "rita"])


def test_a_preempted_run_goes_back_to_the_queue_on_its_jobs_word_only(
    base: str, ws: OpenWorkspace, callers: dict[str, str]
) -> None:
    """`POST /runs/{id}/requeue`: what a job on Ray says once its preempted attempt stopped."""
    run = ws.store.create_run("jobs", user="ana", status=RunStatus.RUNNING)
    _, token = auth.create_run_token(ws, run)
    ws.compute_store.preempt_run(run.id, "evicted")
    path = f"{API}/runs/{run.id}/requeue"
    body = {"cause": "evicted"}
    for label in ("contributor", "reader", "job"):  # its owner, a reader, another run's job
        answer = httpx.post(f"{base}{path}", json=body, headers=_bearer(callers[label]))
        assert answer.status_code == 403, label
    assert ws.store.get_run(run.id).status is RunStatus.PREEMPTED

    requeued = httpx.post(f"{base}{path}", json=body, headers=_bearer(token))
    assert requeued.status_code == 200, requeued.text
    assert (requeued.json()["status"], requeued.json()["attempt"]) == ("Queued", 2)
    [attempt] = ws.compute_store.list_attempts(run.id)
    assert (attempt.outcome, attempt.cause) == (RunStatus.PREEMPTED, "evicted")
    # Once: a second word (the job's retry, or the reaper's) changes nothing.
    again = httpx.post(f"{base}{path}", json=body, headers=_bearer(token))
    assert again.status_code == 409 and "not Preempted" in again.json()["message"]
    assert ws.store.get_run(run.id).attempt == 2
