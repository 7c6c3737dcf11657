"""The JSON routes the portal app reads beside the plain API (`routes/portal_data.py`), on a real
server: a run's details after the reaper looked at it, and its metric series thinned for charts,
cheap to poll while nothing changes. (The runs table's query: `test_runs_query.py`.)"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Metric, RunStatus
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.portal_support import API, Served, served


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("portal-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    with served(ws) as running:
        yield running


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
