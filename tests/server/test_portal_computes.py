"""The portal's compute pages and what the run page says about computes, on a real server with
real computes (created and provisioned through the services) and real jobs holding their nodes:
the computes list, a compute with its size, its busy nodes and its queue with each run's reason,
a run's compute, attempt, waiting reason and earlier attempts. The last test clicks through in
a real headless Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from modelyard.entities import Run, RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.services import computes
from modelyard.services.runs import cancel_run, get_run
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.browser_support import checked_page, chromium, log_in, shoot
from server.portal_support import Served, logged_in_client, served, sleeping_jobs

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DEADLINE_S = 60.0


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("computes-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def site(ws: OpenWorkspace) -> Iterator[Served]:
    with served(ws) as running:
        yield running


def section(html: str, element_id: str) -> str:
    """The HTML of the element with `element_id` up to the end of its section or table."""
    after = html.split(f'id="{element_id}"', 1)[1]
    return after.split("</section>", 1)[0].split("</table>", 1)[0]


def row_of(html: str, attribute: str, value: str) -> str:
    return html.split(f'{attribute}="{value}"', 1)[1].split("</tr>", 1)[0]


def wait_for_status(ws: OpenWorkspace, run: Run, wanted: RunStatus) -> Run:
    deadline = time.monotonic() + DEADLINE_S
    while (current := get_run(ws, run.id)).status is not wanted:
        assert time.monotonic() < deadline, f"{run.display_name} stayed {current.status.value}"
        time.sleep(0.1)
    return current


# The computes list and a compute's own page ----------------------------------------------------


def test_the_computes_page_lists_each_compute_with_its_state_size_priority_and_load(
    site: Served, ws: OpenWorkspace
) -> None:
    spot = ComputeRequest("spot-pool", priority=Priority.LOW_PRIORITY, max_nodes=3)
    assert computes.create_compute(ws, spot).state is ProvisioningState.SUCCEEDED
    gpu = computes.create_compute(ws, ComputeRequest("gpu-pool", size="Standard_NC12"))
    assert gpu.state is ProvisioningState.FAILED  # this host has no GPUs
    with logged_in_client(site) as browser:
        answer = browser.get("/computes")
    assert answer.status_code == 200
    assert '<a href="/computes" class="current">Computes</a>' in answer.text
    table = section(answer.text, "computes")
    local = row_of(table, "data-compute", "local")
    assert 'data-state="Succeeded"' in local and "(built in)" in local
    assert "this host" in local and "dedicated" in local and ">0 of no limit<" in local
    spot_row = row_of(table, "data-compute", "spot-pool")
    assert '<a href="/computes/spot-pool">spot-pool</a>' in spot_row
    assert 'data-state="Succeeded"' in spot_row and "Standard_DS1_v2" in spot_row
    assert "low-priority" in spot_row and ">0 of 3<" in spot_row
    assert '<td class="num" data-field="queued">0</td>' in spot_row
    failed = row_of(table, "data-compute", "gpu-pool")
    assert 'data-state="Failed"' in failed and "Standard_NC12" in failed
    assert "lacks what size Standard_NC12 needs" in failed and "2 GPUs (it has 0)" in failed


def test_a_failed_compute_page_shows_its_errors_the_remedies_and_its_size(
    site: Served, ws: OpenWorkspace
) -> None:
    computes.create_compute(ws, ComputeRequest("gpu-pool", size="Standard_NC12", max_nodes=2))
    with logged_in_client(site) as browser:
        page = browser.get("/computes/gpu-pool")
        missing = browser.get("/computes/nope")
    assert page.status_code == 200
    assert 'data-state="Failed"' in page.text
    errors = section(page.text, "compute-errors")
    assert "this host lacks what size Standard_NC12 needs" in errors
    assert "modelyard compute delete gpu-pool" in errors  # one of the two remedies
    resources = section(page.text, "size-resources")
    for label, value in (("vCPUs", "12"), ("Memory", "112 GiB"), ("GPUs", "2")):
        assert f'<th scope="row">{label}</th><td class="num">{value}</td>' in resources
    details = section(page.text, "compute-details")
    assert ">0 of 2<" in details and "dedicated" in details
    assert "No run holds a node." in section(page.text, "holding")
    assert "Nothing waits." in section(page.text, "queue")
    assert missing.status_code == 404 and "nope" in missing.text


def test_a_full_compute_shows_who_holds_its_node_and_who_waits_and_why(
    site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    computes.create_compute(ws, ComputeRequest("one-node", max_nodes=1))
    with sleeping_jobs(ws, tmp_path / "project", "one-node", 2) as (first, second):
        assert second.status is RunStatus.QUEUED
        with logged_in_client(site) as browser:
            compute_page = browser.get("/computes/one-node").text
            listing = browser.get("/computes").text
            run_page = browser.get(f"/runs/{second.id}").text
            runs_table = browser.get("/runs").text
    holding = row_of(section(compute_page, "holding"), "data-run-id", first.id)
    assert f'<a href="/runs/{first.id}">sleeper-1</a>' in holding
    assert 'class="num">1</td>' in holding  # its attempt
    queue = section(compute_page, "queue")
    waiting = row_of(queue, "data-run-id", second.id)
    assert f'<a href="/runs/{second.id}">sleeper-2</a>' in waiting
    assert "waiting for a node on one-node: 0 ahead" in waiting
    assert first.id not in queue
    assert ">1 of 1<" in section(compute_page, "compute-details")
    row = row_of(section(listing, "computes"), "data-compute", "one-node")
    assert ">1 of 1<" in row and '<td class="num" data-field="queued">1</td>' in row
    # The waiting run's own page: its compute, its attempt and why it waits.
    assert 'data-status="Queued"' in run_page
    notice = run_page.split('data-field="status-detail"', 1)[1].split("</p>", 1)[0]
    assert "hidden" not in notice.split(">", 1)[0]
    assert "waiting for a node on one-node" in notice
    assert '<a href="/computes/one-node">one-node</a>' in run_page
    assert '<dd data-field="attempt">1</dd>' in run_page
    assert 'id="attempts"' not in run_page  # no earlier attempt
    live = json.loads(run_page.split('id="live-data">')[1].split("</script>")[0])
    assert live["attempt"] == 1 and live["waiting_statuses"] == ["Queued", "Preempted"]
    assert set(live["terminal_statuses"]) == {"Completed", "Failed", "Canceled"}
    assert '<a href="/computes/one-node">one-node</a>' in runs_table
    assert get_run(ws, first.id).status is RunStatus.CANCELED
    assert get_run(ws, second.id).status is RunStatus.CANCELED


def test_a_resumed_run_shows_its_earlier_attempt_and_why_it_ended(
    site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    computes.create_compute(
        ws, ComputeRequest("spot-pool", priority=Priority.LOW_PRIORITY, max_nodes=1)
    )
    with sleeping_jobs(ws, tmp_path / "project", "spot-pool", 1) as (run,):
        wait_for_status(ws, run, RunStatus.RUNNING)
        preempted = computes.preempt(ws, "spot-pool")
        assert [r.id for r in preempted] == [run.id]
        computes.wait_until_requeued(ws, preempted, DEADLINE_S)
        resumed = wait_for_status(ws, run, RunStatus.RUNNING)
        assert resumed.attempt == 2
        with logged_in_client(site) as browser:
            run_page = browser.get(f"/runs/{run.id}").text
            compute_page = browser.get("/computes/spot-pool").text
    assert '<dd data-field="attempt">2</dd>' in run_page
    attempts = section(run_page, "attempts")
    first = row_of(attempts, "data-attempt", "1")
    assert 'data-status="Preempted"' in first and "preempted on demand" in first
    assert "This is attempt 2" in run_page
    assert "(its jobs may be preempted, then resume)" in compute_page
    assert 'class="num">2</td>' in row_of(section(compute_page, "holding"), "data-run-id", run.id)


def test_the_new_statuses_have_badges_and_filters(site: Served, ws: OpenWorkspace) -> None:
    with logged_in_client(site) as browser:
        runs = browser.get("/runs").text
        css = browser.get("/static/portal.css").text
        overview = browser.get("/").text
    for status in ("Starting", "Preempted"):
        assert f'name="status" value="{status}"' in runs  # the runs table's filter
        assert f".status-{status} {{" in css
    for state in ProvisioningState:
        assert f".state-{state.value} {{" in css
    # "Active runs" counts (and links to) the runs waiting for or holding a node.
    assert "status=Queued&amp;status=Starting" in overview and "status=Preempted" in overview


def test_the_compute_pages_need_a_login(site: Served) -> None:
    for path in ("/computes", "/computes/local"):
        answer = httpx.get(f"{site.url}{path}")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?")


# In a real browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, site: Served) -> Iterator[Page]:
    with checked_page(browser, site) as tab:
        yield tab


def test_click_from_the_computes_list_to_a_queued_run_that_starts_when_a_node_frees(
    page: Page, site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    computes.create_compute(ws, ComputeRequest("one-node", max_nodes=1))
    computes.create_compute(ws, ComputeRequest("gpu-pool", size="Standard_NC12"))
    with sleeping_jobs(ws, tmp_path / "project", "one-node", 2) as (first, second):
        log_in(page, site, "/computes")
        page.wait_for_url("**/computes")
        assert "lacks" in page.inner_text("#computes tr[data-compute=gpu-pool]")
        shoot(page, "10-computes")
        page.click("#computes >> text=one-node")
        page.wait_for_url("**/computes/one-node")
        assert "sleeper-1" in page.inner_text("#holding")
        queue = page.inner_text("#queue")
        assert "sleeper-2" in queue and "waiting for a node on one-node" in queue
        shoot(page, "11-compute-queue")
        page.click("#queue >> text=sleeper-2")
        page.wait_for_url(f"**/runs/{second.id}")
        assert page.inner_text("[data-field=status]") == "Queued"
        assert "waiting for a node on one-node" in page.inner_text("[data-field=status-detail]")
        shoot(page, "12-queued-run")
        cancel_run(ws, first.id)  # its node frees: the waiting run is admitted and launched
        page.wait_for_function(
            "() => !['Queued', 'Starting'].includes("
            "document.querySelector('[data-field=status] .status').dataset.status)"
        )
        assert page.is_hidden("[data-field=status-detail]")
        assert page.inner_text("[data-field=attempt]") == "1"
