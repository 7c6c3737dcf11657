"""The portal over HTTP on a real server: login and its cookie, pages, files, and the JSON routes
its script polls."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Metric, RunStatus
from modelyard.server.portal import portal_url
from modelyard.services import auth
from modelyard.services.runs import start_interactive_run
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.portal_support import API, Served, logged_in_client, png_bytes, populate, served


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("portal-ws", path=tmp_path / "ws", location="lab-eu")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    with served(ws) as running:
        yield running


# Logging in ------------------------------------------------------------------------------------


def test_pages_send_a_stranger_to_the_login_page_and_back(site: Served) -> None:
    with httpx.Client(base_url=site.url) as browser:
        refused = browser.get("/runs?status=Running&page=2")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=%2Fruns%3Fstatus%3DRunning%26page%3D2"
        form = browser.get(refused.headers["location"])
        assert form.status_code == 200 and 'name="token"' in form.text
        assert 'value="/runs?status=Running&amp;page=2"' in form.text
        wrong = browser.post("/login", data={"token": "myd_nope", "next": "/runs"})
        assert wrong.status_code == 401 and "malformed API token" in wrong.text
        assert "set-cookie" not in wrong.headers
        assert site.token is not None
        accepted = browser.post("/login", data={"token": site.token, "next": "/runs?page=2"})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/runs?page=2"
        cookie = accepted.headers["set-cookie"].lower()
        assert "modelyard_token=" in cookie and "httponly" in cookie
        assert "samesite=strict" in cookie and "path=/" in cookie
        overview = browser.get("/")
        assert overview.status_code == 200 and "portal-ws" in overview.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_logging_in_never_sends_the_browser_to_another_site(site: Served, target: str) -> None:
    answer = httpx.post(f"{site.url}/login", data={"token": site.token or "", "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_login_form_posted_by_another_site_is_refused(site: Served) -> None:
    forged = httpx.post(
        f"{site.url}/login",
        data={"token": site.token or "", "next": "/"},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers


def test_logging_out_forgets_the_cookie(site: Served) -> None:
    with logged_in_client(site) as browser:
        assert browser.get("/").status_code == 200
        out = browser.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "max-age=0" in out.headers["set-cookie"].lower()
        assert browser.get("/").status_code == 303


def test_a_revoked_token_logs_the_browser_out(site: Served, ws: OpenWorkspace) -> None:
    with logged_in_client(site) as browser:
        assert browser.get("/experiments").status_code == 200
        token_id = auth.parse_token(site.token or "")[0]
        auth.revoke_token(ws, token_id)
        again = browser.get("/experiments")
        assert again.status_code == 303 and "revoked" in again.headers["location"]


def test_the_api_takes_the_cookie_but_a_change_needs_the_portal_header(site: Served) -> None:
    with logged_in_client(site) as browser:
        assert browser.get(f"{API}/workspace").json()["name"] == "portal-ws"
        forged = browser.post(f"{API}/experiments", json={"name": "forged"})
        assert forged.status_code == 401 and "x-modelyard-portal" in forged.json()["message"]
        made = browser.post(
            f"{API}/experiments", json={"name": "mine"}, headers={"X-Modelyard-Portal": "1"}
        )
        assert made.status_code == 200
    assert httpx.get(f"{site.url}{API}/workspace").status_code == 401
    bearer = {"Authorization": f"Bearer {site.token}"}
    assert httpx.post(f"{site.url}{API}/experiments", json={"name": "x"}, headers=bearer).is_success


def test_with_auth_off_every_page_is_open(ws: OpenWorkspace) -> None:
    with served(ws, auth_on=False) as site, httpx.Client(base_url=site.url) as browser:
        page = browser.get("/")
        assert page.status_code == 200 and "auth off" in page.text
        assert browser.get("/login?next=/runs").headers["location"] == "/runs"


def test_pages_are_not_cached_framed_or_open_to_inline_scripts(site: Served) -> None:
    with logged_in_client(site) as browser:
        headers = browser.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["x-frame-options"] == "DENY"
    login = httpx.get(f"{site.url}/login")
    assert "default-src 'none'" in login.headers["content-security-policy"]


def test_assets_are_served_locally_and_fingerprinted(site: Served) -> None:
    with logged_in_client(site) as browser:
        page = browser.get("/").text
    for asset in ("portal.css", "portal.js"):
        start = page.index(f"/static/{asset}?v=")
        url = page[start : page.index('"', start)]
        served_asset = httpx.get(f"{site.url}{url}")
        assert served_asset.status_code == 200 and len(served_asset.content) > 1000
    assert "http://" not in page.replace(site.url, "") and "https://" not in page


# Pages ----------------------------------------------------------------------------------------


def test_overview_experiments_and_runs_tables(site: Served, ws: OpenWorkspace) -> None:
    populate(ws, 60)
    ws.store.create_run("other", user="bo", display_name="lonely")
    with logged_in_client(site) as browser:
        overview = browser.get("/").text
        assert "lab-eu" in overview and 'id="experiment-count">2<' in overview
        assert "lonely" in overview  # the newest run is among the recent ones
        experiments = browser.get("/experiments").text
        assert "/experiments/sweep" in experiments and "/experiments/other" in experiments
        table = browser.get("/experiments/sweep?size=25&page=3&sort=number&order=asc").text
        assert "Showing 51–60 of 60 runs" in table and "Page 3 of 3" in table
        assert table.count('<tr data-run-id="') == 10 and 'data-number="51"' in table
        assert "lonely" not in table
        filtered = browser.get("/runs?metric=accuracy>0.9,loss<1&tag=team=vision&status=Completed")
        assert filtered.status_code == 200 and "of 60 runs" not in filtered.text
        bad = browser.get("/runs?metric=accuracy>>1")
        assert bad.status_code == 400 and "invalid metric filter" in bad.text
        missing = browser.get("/experiments/nope")
        assert missing.status_code == 404 and "experiment &#39;nope&#39; not found" in missing.text


def test_run_page_shows_status_data_reports_logs_and_artifacts(
    site: Served, ws: OpenWorkspace
) -> None:
    run = start_interactive_run(ws, "flowers", user="ana", display_name="tulips")
    ws.store.log_batch(
        run.id,
        [Metric("train_accuracy", 0.5, 0, time.time())],
        params={"backbone": "resnet18"},
        tags={"stage": "dev"},
    )
    ws.store.add_properties(run.id, {"guardrails": "passed"})
    report = {
        "passed": True,
        "summary": "guardrails passed: 40 usable images in 2 classes; 1 warning",
        "file_count": 41,
        "usable_count": 40,
        "bad_file_count": 1,
        "class_counts": {"daisy": 22, "tulip": 18},
        "errors": [],
        "warnings": [
            {"kind": "unreadable", "path": "tulip/x.jpg", "label": "tulip", "detail": "cannot"
             " decode tulip/x.jpg", "fix": "delete it", "message": "cannot decode"}
        ],
        "limits": {"min_classes": 2},
    }  # fmt: skip
    ws.artifacts.put_bytes(run.id, "outputs/guardrails.json", json.dumps(report).encode())
    ws.artifacts.put_bytes(run.id, "outputs/evaluation/confusion_matrix.png", png_bytes())
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", b"epoch 1 <done>\n")
    with logged_in_client(site) as browser:
        page = browser.get(f"/runs/{run.id}")
        assert page.status_code == 200
        text = page.text
        assert "tulips" in text and 'data-status="Running"' in text and "resnet18" in text
        assert "stage" in text and "guardrails" in text and "daisy" in text
        assert "cannot decode tulip/x.jpg" in text and "delete it" in text
        png_url = f"/runs/{run.id}/file?path=outputs/evaluation/confusion_matrix.png"
        assert png_url in text
        assert "logs/std_log.txt" in text and "evaluation/" in text
        live = json.loads(text.split('id="live-data">')[1].split("</script>")[0])
        assert live["run_id"] == run.id and live["terminal"] is False
        folder = browser.get(f"/runs/{run.id}?dir=outputs/evaluation").text
        assert (
            "confusion_matrix.png" in folder and "outputs/evaluation/confusion_matrix.png" in folder
        )


def test_artifact_files_are_inline_only_when_harmless(site: Served, ws: OpenWorkspace) -> None:
    run = ws.store.create_run("files", user="ana")
    image = png_bytes()
    ws.artifacts.put_bytes(run.id, "outputs/cm.png", image)
    ws.artifacts.put_bytes(run.id, "outputs/page.html", b"<script>alert(1)</script>")
    ws.artifacts.put_bytes(run.id, "outputs/drawing.svg", b"<svg onload='alert(1)'/>")
    ws.artifacts.put_bytes(run.id, "outputs/notes.json", b'{"b": 1, "a": [1, 2]}')
    with logged_in_client(site) as browser:
        shown = browser.get(f"/runs/{run.id}/file?path=outputs/cm.png")
        assert shown.status_code == 200 and shown.content == image
        assert shown.headers["content-type"] == "image/png"
        assert shown.headers["content-disposition"].startswith("inline")
        assert shown.headers["content-security-policy"].startswith("sandbox")
        assert shown.headers["x-content-type-options"] == "nosniff"
        for risky in ("outputs/page.html", "outputs/drawing.svg"):
            answer = browser.get(f"/runs/{run.id}/file", params={"path": risky})
            assert answer.headers["content-type"] == "application/octet-stream"
            assert answer.headers["content-disposition"].startswith("attachment")
        download = browser.get(f"/runs/{run.id}/file?path=outputs/cm.png&download=true")
        assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''cm.png"
        preview = browser.get(f"/runs/{run.id}/artifact?path=outputs/notes.json").text
        assert '"a": [\n    1,' in preview.replace("&#34;", '"')
        assert (
            'id="image-preview"' in browser.get(f"/runs/{run.id}/artifact?path=outputs/cm.png").text
        )
        escape = browser.get(f"/runs/{run.id}/file", params={"path": "../../config.json"})
        assert escape.status_code == 400 and "unsafe artifact path" in escape.text
        gone = browser.get(f"/runs/{run.id}/artifact", params={"path": "outputs/none.txt"})
        assert gone.status_code == 404


def test_compare_diffs_params_and_needs_two_runs(site: Served, ws: OpenWorkspace) -> None:
    first = ws.store.create_run("cmp", user="ana", display_name="first")
    second = ws.store.create_run("cmp", user="ana", display_name="second")
    ws.store.log_batch(first.id, params={"lr": "0.1", "epochs": "5"})
    ws.store.log_batch(second.id, params={"lr": "0.2", "epochs": "5"})
    with logged_in_client(site) as browser:
        page = browser.get(f"/compare?run={first.id}&run={second.id}")
        assert page.status_code == 200
        rows = page.text.split('id="params-diff"')[1]
        assert '<tr class="differs">\n        <th scope="row">lr</th>' in rows
        assert '<tr class="same">\n        <th scope="row">epochs</th>' in rows
        one = browser.get(f"/compare?run={first.id}")
        assert one.status_code == 400 and "at least two runs" in one.text


# The JSON routes the pages poll --------------------------------------------------------------


def test_metric_series_are_thinned_and_polling_an_unchanged_run_is_cheap(
    site: Served, ws: OpenWorkspace
) -> None:
    run = ws.store.create_run("long", user="ana")
    values = [math.sin(step / 300) for step in range(12_000)]
    values[4321] = 50.0
    values[7000] = math.nan
    now = time.time()
    for start in range(0, len(values), 500):
        batch = [Metric("loss", values[s], s, now) for s in range(start, start + 500)]
        ws.store.log_batch(run.id, [*batch, Metric("lr", 0.1, start, now)])
    headers = {"Authorization": f"Bearer {site.token}"}
    url = f"{site.url}{API}/runs/{run.id}/metric-series"
    body = httpx.get(url, headers=headers).json()
    loss = body["series"]["loss"]
    assert body["changed"] and loss["count"] == 12_000 and loss["non_finite"] == 1
    assert loss["downsampled"] and len(loss["points"]) <= 2000
    assert [4321, 50.0] in loss["points"] and loss["last"] == values[-1]
    assert body["series"]["lr"]["points"] == [[s, 0.1] for s in range(0, 12_000, 500)]
    only = httpx.get(url, params={"name": "lr", "max_points": 4}, headers=headers).json()
    assert list(only["series"]) == ["lr"] and len(only["series"]["lr"]["points"]) <= 4
    same = httpx.get(url, params={"version": body["version"]}, headers=headers).json()
    assert same == {"version": body["version"], "changed": False, "series": {}}
    ws.store.log_batch(run.id, [Metric("loss", 0.0, 12_000, now)])
    moved = httpx.get(url, params={"version": body["version"]}, headers=headers).json()
    assert moved["changed"] and moved["series"]["loss"]["count"] == 12_001
    missing = httpx.get(f"{site.url}{API}/runs/nope/metric-series", headers=headers)
    assert missing.status_code == 404


def test_details_route_gives_the_reaped_run_and_its_data(site: Served, ws: OpenWorkspace) -> None:
    run = ws.store.create_run("d", user="ana", status=RunStatus.RUNNING)
    ws.store.log_batch(run.id, [Metric("acc", math.nan, 0, 0.0)], params={"a": "1"})
    answer = httpx.get(
        f"{site.url}{API}/runs/{run.id}/details",
        headers={"Authorization": f"Bearer {site.token}"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == run.id and body["params"] == {"a": "1"}
    assert body["metrics"] == {"acc": "NaN"} and body["status"] == "Running"


def test_portal_url_points_at_the_run_page() -> None:
    assert portal_url("http://127.0.0.1:8765/", "abc123") == "http://127.0.0.1:8765/runs/abc123"
    assert portal_url("https://ml.example/yard", "a/b") == "https://ml.example/yard/runs/a%2Fb"
