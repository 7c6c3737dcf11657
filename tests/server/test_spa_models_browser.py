"""The app's models pages in a real headless Chromium on a real server, over a registry filled
by the real service: a model of two versions, each registered from a run (small files, then the
tiny image classifier of tests/vision, recognised with its labels). The list, the model and a
version pass axe and fit 800 px; an alias moves by keyboard; a file downloads with its recorded
SHA-256; a tag is set; the lineage link leads to the run, whose page links back; a reader's
alias change is refused in the server's one line."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from modelyard.entities import Role, RunStatus
from modelyard.entities.registry import ModelVersion, ModelVersionRequest
from modelyard.services import auth, models, runs
from modelyard.services.model_recognition import IMAGE_CLASSIFICATION, MODEL_BUILDER_FILES
from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import checked_page, log_in, refusing_page, shoot
from server.portal_support import Served
from server.spa_support import check_page

playwright_api = pytest.importorskip("playwright.sync_api")
pytest_plugins = ["vision.conftest"]


@pytest.fixture
def flowers(
    ws: OpenWorkspace,
    tmp_path: Path,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> list[ModelVersion]:
    """`flowers` v1 (one small file) and v2 (the tiny image classifier), each from its own run;
    `champion` points at v1."""
    first = runs.start_interactive_run(ws, "flowers-exp", user="ana")
    ws.artifacts.put_bytes(first.id, "outputs/model.bin", b"weights, version one")
    runs.end_run(ws, first.id, RunStatus.COMPLETED)
    v1 = models.register_run_model(
        ws, first.id, ModelVersionRequest("flowers", tags={"stage": "trial"}), user="ana"
    )

    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, outputs / source.name)
    second = runs.start_interactive_run(ws, "flowers-exp", user="ana")
    ws.artifacts.put_folder(second.id, "outputs", outputs)
    runs.end_run(ws, second.id, RunStatus.COMPLETED)
    v2 = models.register_run_model(ws, second.id, ModelVersionRequest("flowers"), user="ana")
    assert v2.framework == IMAGE_CLASSIFICATION
    models.set_alias(ws, "flowers", "champion", 1)
    return [v1, v2]


def test_models_list_model_version_and_lineage(
    browser: playwright_api.Browser,
    site: Served,
    ws: OpenWorkspace,
    flowers: list[ModelVersion],
    tiny_labels: list[str],
) -> None:
    v1, v2 = flowers
    with checked_page(browser, site) as page:
        log_in(page, site, "/app/models")
        row = page.locator("#models tr[data-model=flowers]")
        row.wait_for()
        assert "champion → v1" in row.inner_text()
        assert IMAGE_CLASSIFICATION in row.inner_text()
        assert row.locator("td").nth(2).inner_text() == "2"  # versions
        check_page(page, "models")
        page.fill("#model-filter", "no-such")
        page.locator("text=No model matches").wait_for()
        page.fill("#model-filter", "champ")
        row.wait_for()

        # The model: both versions, champion beside v1; moved to v2 by keyboard.
        row.locator("a", has_text="flowers").click()
        page.wait_for_url("**/app/models/flowers")
        page.locator("#versions tr[data-version='1'] [data-alias=champion]").wait_for()
        assert v1.lineage.run_id is not None
        assert v1.lineage.run_id[:8] in page.inner_text("#versions tr[data-version='1']")
        check_page(page, "model")
        page.focus("#alias-name")
        page.keyboard.type("champion")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "alias-version"
        assert page.input_value("#alias-version") == "2"  # the newest, first
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # on "Set alias"
        page.locator("#versions tr[data-version='2'] [data-alias=champion]").wait_for()
        assert models.get_model(ws, "flowers").aliases == {"champion": 2}
        shoot(page, "spa-model-alias-moved")

        # The classifier's version: files with hashes, labels, usage; a download and a tag.
        page.click("#versions tr[data-version='2'] a >> text=v2")
        page.wait_for_url("**/app/models/flowers/versions/2")
        files = page.locator("#files")
        files.wait_for()
        for file in v2.files:
            assert file.sha256 in files.locator(f"tr[data-file='{file.path}']").inner_text()
        assert sorted(f.path for f in v2.files) == sorted(MODEL_BUILDER_FILES)
        labels = page.locator("#labels li").all_inner_texts()
        assert labels == tiny_labels
        assert "ModelInput" in page.inner_text("#schema")
        assert "modelyard model download flowers:2" in page.inner_text("#usage")
        assert 'Model(ws, "flowers", version=2)' in page.inner_text("#usage")
        check_page(page, "model-version")
        onnx = next(f for f in v2.files if f.path == "bestModel.onnx")
        href = files.locator("a", has_text=onnx.path).get_attribute("href")
        assert href is not None
        download = page.request.get(href)
        assert hashlib.sha256(download.body()).hexdigest() == onnx.sha256
        page.fill("#tags-key", "reviewed")
        page.fill("#tags-value", "yes")
        page.locator("#tags-panel button[type=submit]").click()
        page.locator("#tags-panel dt >> text=reviewed").wait_for()
        assert models.get_model_version(ws, "flowers:2").tags == {"reviewed": "yes"}

        # Lineage: to the run, whose page names what was registered from it.
        page.click("#lineage-run")
        page.wait_for_url(f"**/app/runs/{v2.lineage.run_id}")
        registered = page.locator("#registered-models")
        registered.wait_for()
        assert registered.inner_text() == "Registered models: flowers:2"
        registered.locator("a").click()
        page.wait_for_url("**/app/models/flowers/versions/2")

        # And the alias removed again, from the model's page.
        page.click(".breadcrumbs >> text=flowers")
        page.wait_for_url("**/app/models/flowers")
        page.focus("button[aria-label='Remove alias champion']")
        page.keyboard.press("Enter")
        page.locator("#alias-manager >> text=No alias yet.").wait_for()
        assert models.get_model(ws, "flowers").aliases == {}


def test_a_readers_alias_change_shows_the_servers_refusal(
    browser: playwright_api.Browser,
    site: Served,
    ws: OpenWorkspace,
    flowers: list[ModelVersion],
) -> None:
    auth.create_user(ws, "rita", Role.READER)
    reader = replace(site, token=auth.create_token(ws, "browser", "rita")[1])
    with refusing_page(browser, site) as page:
        log_in(page, reader, "/app/models/flowers")
        page.locator("#alias-manager").wait_for()
        page.fill("#alias-name", "champion")
        page.select_option("#alias-version", "2")
        page.click("text=Set alias")
        alert = page.locator("#alias-error")
        alert.wait_for()
        assert "'rita' is a reader" in alert.inner_text()
        assert "\n" not in alert.inner_text()
        assert models.get_model(ws, "flowers").aliases == {"champion": 1}
        shoot(page, "spa-model-alias-refused")
