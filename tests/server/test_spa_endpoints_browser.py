"""The app's endpoint pages in a real headless Chromium on a real server, over a real endpoint:
the vision tests' tiny ONNX image classifier registered, `champion` pointing at it, and deployed
from `flowers@champion` to the local target (one replica and the endpoint's front, real
processes, shared by the module's tests and deleted at its end). The list and the endpoint pass
axe and fit 800 px; the deployment is Succeeded with all the traffic and links to its model
version, whose page links back; the keys are not in the page until asked for, and then are the
service's, one regenerated after a confirmation; a real PNG sent from the Test box shows the
prediction the endpoint gives its own callers; a reader is told keys and tests are not theirs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from endpoint_support import endpoints_cleaned_up
from modelyard.entities import Role
from modelyard.entities.endpoints import DeploymentRequest, DeploymentState
from modelyard.entities.registry import ModelVersionRequest
from modelyard.services import auth, endpoints, models
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.browser_support import checked_page, log_in, refusing_page, shoot
from server.portal_support import Served, png_bytes, served
from server.spa_support import check_page, require_built_app

playwright_api = pytest.importorskip("playwright.sync_api")
pytest_plugins = ["vision.conftest"]


@dataclass(frozen=True)
class Deployed:
    site: Served
    ws: OpenWorkspace


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> Iterator[Deployed]:
    """Endpoint `flowers`, deployment `blue` serving flowers:1 (`flowers@champion`), behind a
    server with auth on; deleted at the end, which stops its processes."""
    require_built_app()
    with pytest.MonkeyPatch.context() as env:
        # The autouse home of conftest is per test; this workspace lives for the module.
        env.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("endpoint-pages-home")))
        env.delenv("MODELYARD_WORKSPACE", raising=False)
        root = tmp_path_factory.mktemp("endpoint-pages")
        folder = root / "flowers"
        folder.mkdir()
        for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
            shutil.copy(source, folder / source.name)
        ws = create_workspace("endpoint-pages", path=root / "ws")
        try:
            with endpoints_cleaned_up(ws):
                models.register_model(ws, folder, ModelVersionRequest("flowers"), user="ana")
                models.set_alias(ws, "flowers", "champion", 1)
                request = DeploymentRequest("flowers", "blue", model="flowers@champion")
                assert endpoints.deploy(ws, request).state is DeploymentState.SUCCEEDED
                with served(ws) as site:
                    yield Deployed(site, ws)
        finally:
            ws.close()


def test_the_list_and_the_endpoint_show_the_deployment_and_its_traffic(
    browser: playwright_api.Browser, deployed: Deployed
) -> None:
    endpoint = endpoints.get_endpoint(deployed.ws, "flowers")
    with checked_page(browser, deployed.site) as page:
        log_in(page, deployed.site, "/app/endpoints")
        row = page.locator("#endpoints tr[data-endpoint=flowers]")
        row.wait_for()
        assert endpoint.scoring_uri in row.inner_text()
        assert row.locator("[data-field=traffic]").inner_text() == "blue 100%"
        assert row.locator("[data-deployment=blue] [data-field=state]").inner_text() == "Succeeded"
        health = row.locator("[data-field=health]").all_inner_texts()
        assert health == ["Front running", "1/1 replicas running"]
        check_page(page, "endpoints")

        row.locator("a", has_text="flowers").click()
        page.wait_for_url("**/app/endpoints/flowers")
        blue = page.locator("#deployments tr[data-deployment=blue]")
        blue.wait_for()
        assert blue.locator("[data-field=state]").inner_text() == "Succeeded"
        assert blue.locator("[data-field=health]").inner_text() == "1/1 replicas running"
        assert "follows champion" in blue.inner_text()
        share = page.locator("#traffic li[data-deployment=blue] [data-field=percent]")
        assert share.inner_text() == "100%"
        assert page.inner_text("#scoring-uri") == endpoint.scoring_uri
        assert page.get_attribute("#swagger-uri", "href") == endpoint.swagger_uri
        check_page(page, "endpoint")

        # Lineage both ways: the deployment's model version, whose page names where it serves.
        blue.locator("[data-field=model]").click()
        page.wait_for_url("**/app/models/flowers/versions/1")
        deployed_to = page.locator("#deployed-to")
        deployed_to.wait_for()
        assert deployed_to.inner_text() == "flowers (blue)"
        deployed_to.locator("a").click()
        page.wait_for_url("**/app/endpoints/flowers")


def test_keys_stay_out_of_the_page_until_asked_for_by_keyboard(
    browser: playwright_api.Browser, deployed: Deployed
) -> None:
    keys = endpoints.get_keys(deployed.ws, "flowers")
    with checked_page(browser, deployed.site) as page:
        log_in(page, deployed.site, "/app/endpoints/flowers")
        page.locator("#tab-test[aria-selected=true]").wait_for()
        page.focus("#tab-test")
        page.keyboard.press("ArrowRight")
        page.locator("#tab-keys[aria-selected=true]").wait_for()
        assert page.url.endswith("?tab=keys")
        page.locator("#show-keys").wait_for()
        assert not any(key in page.content() for key in keys.values())

        page.keyboard.press("Tab")  # out of the tabs, onto "Show keys"
        assert page.evaluate("() => document.activeElement.id") == "show-keys"
        page.keyboard.press("Enter")
        shown = page.locator("#keys [data-field=key]")
        shown.first.wait_for()
        assert shown.all_inner_texts() == [keys["primaryKey"], keys["secondaryKey"]]
        check_page(page, "endpoint-keys")

        # Regenerated only once confirmed; the page then shows the service's new key.
        page.locator("[data-key=secondary] button", has_text="Regenerate").click()
        page.locator("#confirm-regen").wait_for()
        assert endpoints.get_keys(deployed.ws, "flowers") == keys
        page.keyboard.press("Enter")  # the confirmation has the focus
        page.locator("#keys [role=status]", has_text="regenerated").wait_for()
        now = endpoints.get_keys(deployed.ws, "flowers")
        assert now["primaryKey"] == keys["primaryKey"]
        assert now["secondaryKey"] != keys["secondaryKey"]
        secondary = page.locator("[data-key=secondary] [data-field=key]")
        assert secondary.inner_text() == now["secondaryKey"]


def test_an_image_sent_from_the_test_box_shows_the_endpoints_prediction(
    browser: playwright_api.Browser, deployed: Deployed, tiny_labels: list[str]
) -> None:
    image = png_bytes(64, 48)
    expected = endpoints.invoke(deployed.ws, "flowers", image, "image/png").json()
    with checked_page(browser, deployed.site) as page:
        log_in(page, deployed.site, "/app/endpoints/flowers")
        page.locator("#test-file").wait_for()
        assert page.is_checked("input[name=input-kind][value=image]")  # no entry script
        file = {"name": "gradient.png", "mimeType": "image/png", "buffer": image}
        page.set_input_files("#test-file", files=[file])
        page.locator("img[alt*='gradient.png']").wait_for()
        page.click("#test-send")
        prediction = page.locator("#prediction")
        prediction.wait_for()
        assert prediction.inner_text() == expected["Prediction"]
        labels = page.locator("#scores li").evaluate_all("items => items.map(i => i.dataset.label)")
        assert labels == sorted(tiny_labels, key=lambda label: -expected["Score"][label])
        assert "Answered by deployment blue" in page.inner_text("#test-result")
        check_page(page, "endpoint-test")

        # An image dropped on the box is the one sent next.
        dropped = page.evaluate_handle(
            """(bytes) => { const data = new DataTransfer();
                const file = new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'});
                data.items.add(file);
                return data; }""",
            list(image),
        )
        page.dispatch_event(".drop-zone", "drop", {"dataTransfer": dropped})
        page.locator("img[alt*='dropped.png']").wait_for()


def test_a_reader_is_told_keys_and_tests_are_not_theirs(
    browser: playwright_api.Browser, deployed: Deployed
) -> None:
    auth.create_user(deployed.ws, "rita", Role.READER)
    reader = replace(deployed.site, token=auth.create_token(deployed.ws, "browser", "rita")[1])
    keys = endpoints.get_keys(deployed.ws, "flowers")
    with refusing_page(browser, reader) as page:
        log_in(page, reader, "/app/endpoints/flowers?tab=keys")
        page.click("#show-keys")
        alert = page.locator("#keys-error")
        alert.wait_for()
        assert "'rita' is a reader" in alert.inner_text()
        assert "\n" not in alert.inner_text()
        assert not any(key in page.content() for key in keys.values())
        shoot(page, "spa-endpoint-keys-refused")

        # Nor is sending a test request through the server, which would use a key.
        page.click("#tab-test")
        file = {"name": "gradient.png", "mimeType": "image/png", "buffer": png_bytes(32, 32)}
        page.set_input_files("#test-file", files=[file])
        page.click("#test-send")
        refused = page.locator("#test-error")
        refused.wait_for()
        assert "'rita' is a reader" in refused.inner_text()
