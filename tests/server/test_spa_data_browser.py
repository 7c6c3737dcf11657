"""The app's data pages in a real headless Chromium on a real server, over a workspace filled
by the real services: a data asset of two versions, a run that read the second (recorded as a
job records its inputs) and a model version registered from that run. The list, the asset and
the version pass axe and fit 800 px; a file downloads; the version's lineage leads to the run
and to the model version; the run's page lists the data it read and links back."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities import Run, RunStatus
from modelyard.entities.data import DataType, DataVersion, DataVersionRequest, RunInput
from modelyard.entities.registry import ModelVersionRequest
from modelyard.services import data, models, runs
from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import checked_page, log_in
from server.portal_support import Served
from server.spa_support import check_page

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def petals(ws: OpenWorkspace, tmp_path: Path) -> tuple[DataVersion, Run]:
    """`petals` v1 and v2 (a folder of two files); a completed run that read v2 as `train`,
    with `flowers` v1 registered from it; and `old-petals`, archived."""
    folder = tmp_path / "petals"
    folder.mkdir()
    (folder / "a.csv").write_text("x,y\n1,2\n")
    request = DataVersionRequest("petals", description="petal sizes")
    data.create_data(ws, folder, request, user="ana")
    (folder / "b.csv").write_text("x,y\n3,4\n")
    second = data.create_data(ws, folder, request, user="ana").version
    assert second.version == 2
    data.create_data(ws, folder / "a.csv", DataVersionRequest("old-petals", type=DataType.URI_FILE))
    data.set_archived(ws, "old-petals", True)

    run = runs.start_interactive_run(ws, "petals-exp", user="ana")
    ws.data_store.record_run_inputs(run.id, [RunInput(run.id, "train", "petals", 2)])
    ws.artifacts.put_bytes(run.id, "outputs/model.bin", b"weights")
    runs.end_run(ws, run.id, RunStatus.COMPLETED)
    models.register_run_model(ws, run.id, ModelVersionRequest("flowers"), user="ana")
    return second, run


def test_data_pages_lineage_and_the_runs_inputs(
    browser: playwright_api.Browser,
    site: Served,
    petals: tuple[DataVersion, Run],
) -> None:
    version, run = petals
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/data")
        row = page.locator("#data-assets tr[data-asset=petals]")
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[1:4] == ["v2", "uri_folder", "2"]
        assert cells[5] == "petal sizes"
        assert page.locator("#data-assets tr[data-asset=old-petals]").count() == 0
        check_page(page, "data")
        page.check("#show-archived")
        archived = page.locator("#data-assets tr[data-asset=old-petals]")
        archived.wait_for()
        assert "archived" in archived.inner_text()

        # The asset: both versions, v2 following v1 with one more file.
        row.locator("a", has_text="petals").click()
        page.wait_for_url("**/app/data/petals")
        second = page.locator("#data-versions tr[data-version='2']")
        second.wait_for()
        cells = second.locator("td").all_inner_texts()
        assert cells[3] == "2"  # files
        assert cells[5] == version.content_hash[:12]
        assert cells[6] == "v1"
        check_page(page, "data-asset")

        # The version: its files and its lineage, to the model version and to the run.
        second.locator("a", has_text="v2").click()
        page.wait_for_url("**/app/data/petals/2")
        page.locator("#data-files tr[data-file='b.csv']").wait_for()
        assert page.locator("#data-files tbody tr").count() == 2
        href = page.locator("#data-files a", has_text="b.csv").get_attribute("href")
        assert href is not None
        assert page.request.get(href).body() == b"x,y\n3,4\n"
        lineage = page.locator(f"#lineage-runs tr[data-run='{run.id}']")
        lineage.wait_for()
        assert "train" in lineage.inner_text()
        assert lineage.locator(".lineage-model").inner_text() == "flowers:1"
        check_page(page, "data-version")
        lineage.locator(".lineage-model").click()
        page.wait_for_url("**/app/models/flowers/versions/1")
        page.go_back()
        page.locator(f"#lineage-runs tr[data-run='{run.id}'] .lineage-run").click()
        page.wait_for_url(f"**/app/runs/{run.id}")

        # The run names the data it read, and links back to the version.
        inputs = page.locator("#run-inputs")
        inputs.wait_for()
        assert inputs.inner_text() == "Data read: train ← data:petals:2"
        inputs.locator("a").click()
        page.wait_for_url("**/app/data/petals/2")
        page.locator("#data-lineage").wait_for()


def test_a_version_no_run_read_says_so(
    browser: playwright_api.Browser,
    site: Served,
    petals: tuple[DataVersion, Run],
) -> None:
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/data/petals/1")
        page.locator("#data-lineage >> text=No run has read this version yet.").wait_for()
        assert page.locator("#lineage-runs").count() == 0
