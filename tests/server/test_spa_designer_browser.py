"""The pipeline designer in a real headless Chromium on a real server: a pipeline built with
real drag events (palette → canvas, port → port), a wrong connection refused with its reason,
one made from the keyboard's side panel, saved as a draft, submitted, and its steps' states
shown live on the same canvas and on the run's page; a sweep over a registered component
built from the side panel and run to its end; a pipeline made for the CLI opens, is edited,
undone and redone, and saves back byte for byte. A screenshot of each stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities.data import DataVersionRequest
from modelyard.services import components, data
from modelyard.services.pipelines import drafts
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import components_project, fit_component, write
from server.browser_support import checked_page, log_in, shoot
from server.portal_support import Served
from server.spa_support import check_page

playwright_api = pytest.importorskip("playwright.sync_api")

RUN_WAIT_MS = 240_000  # two real steps in real processes, on a loaded machine

# As a CLI user writes one: comments, flow mappings, its own order of keys.
CLI_PIPELINE = """# Sums the numbers, then "trains" on the sum.
type: pipeline
display_name: nightly
experiment_name: numbers-exp
inputs:
  numbers: {type: uri_folder, path: 'data:numbers@latest'}
jobs:
  prep:
    component: azureml:prep:1
    inputs: {raw: '${{parent.inputs.numbers}}'}   # the raw files
  train:
    component: azureml:train:1
    inputs:
      data: ${{parent.jobs.prep.outputs.clean}}
"""


@pytest.fixture
def project(ws: OpenWorkspace, tmp_path: Path) -> Path:
    """Components prep:1 and train:1 and data asset `numbers` (one file: 1 2 3)."""
    for path in components_project(tmp_path).values():
        components.create_component(ws, path)
    write(tmp_path / "numbers" / "a.txt", "1 2 3")
    data.create_data(ws, tmp_path / "numbers", DataVersionRequest("numbers"))
    return tmp_path


def _centre(page: playwright_api.Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag_port(page: playwright_api.Page, source: str, target: str) -> None:
    """Press on one handle, move to the other in steps, release: React Flow's pointer events."""
    page.mouse.move(*_centre(page, source))
    page.mouse.down()
    x, y = _centre(page, target)
    page.mouse.move(x, y, steps=12)
    page.mouse.up()


def _handle(node: str, port: str) -> str:
    return f'.react-flow__handle[data-nodeid="{node}"][data-handleid="{port}"]'


def _drop(page: playwright_api.Page, item: str, x: int, y: int) -> None:
    page.drag_and_drop(
        f'[data-palette="{item}"]', ".react-flow__pane", target_position={"x": x, "y": y}
    )


def _new_pipeline(page: playwright_api.Page, site: Served, name: str) -> None:
    """Logged in, a new draft `name` open on an empty canvas."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    log_in(page, site, "/app/designer")
    page.fill("#new-pipeline-name", name)
    page.click("form[aria-label='New pipeline'] button[type=submit]")
    page.wait_for_url(f"**/app/designer/{name}?new")
    page.locator(".react-flow__pane").wait_for()


def test_build_refuse_save_submit_and_watch_a_pipeline(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, project: Path
) -> None:
    with checked_page(browser, site) as page:
        _new_pipeline(page, site, "etl_flow")
        shoot(page, "designer-1-empty")

        # Real drags from the palette onto the canvas.
        _drop(page, "data:numbers", 80, 120)
        _drop(page, "component:prep:1", 420, 120)
        _drop(page, "component:train:1", 760, 120)
        for node in ("input:numbers", "step:prep", "step:train"):
            page.locator(f'.design-node[data-node="{node}"]').wait_for()
        shoot(page, "designer-2-dropped")

        # A folder into prep's integer `scale`: refused, with the reason.
        _drag_port(page, _handle("input:numbers", "value"), _handle("step:prep", "scale"))
        notice = page.locator("#designer-notice")
        notice.wait_for()
        assert notice.inner_text() == (
            "Not connected: prep.scale takes integer; input 'numbers' gives uri_folder:"
            " connect an output of a matching type"
        )
        assert page.locator(".react-flow__edge").count() == 0
        shoot(page, "designer-3-refused")

        # The right port by drag; the next one from the side panel (the keyboard's way).
        _drag_port(page, _handle("input:numbers", "value"), _handle("step:prep", "raw"))
        page.locator(".react-flow__edge").first.wait_for()
        page.locator('.design-node[data-node="step:train"]').click()
        page.select_option('[data-binding="data"] select', "step:prep|clean")
        expect = playwright_api.expect
        expect(page.locator(".react-flow__edge")).to_have_count(2)
        check = page.locator("#designer-check")
        expect(check).to_have_text("The pipeline is ready to submit.")
        page.click("button:has-text('YAML')")
        yaml_text = page.locator("#designer-yaml").inner_text()
        assert "raw: ${{parent.inputs.numbers}}" in yaml_text
        assert "data: ${{parent.jobs.prep.outputs.clean}}" in yaml_text
        shoot(page, "designer-4-connected")
        check_page(page, "designer")
        page.set_viewport_size({"width": 1600, "height": 1000})

        page.click(".design-toolbar button:has-text('Save')")
        expect(notice).to_have_text("Saved etl_flow, revision 1.")
        saved = drafts.get_draft(ws, "etl_flow").draft
        assert "component: azureml:prep:1" in saved.definition
        assert set(saved.layout) == {"input:numbers", "step:prep", "step:train"}

        page.click(".design-toolbar button:has-text('Submit')")
        page.locator("#watched-run").wait_for()
        page.locator('.design-node[data-node="step:train"][data-status="Completed"]').wait_for(
            timeout=RUN_WAIT_MS
        )
        expect(page.locator("#watched-run")).to_contain_text("Completed", timeout=RUN_WAIT_MS)
        assert check.inner_text() == "The pipeline is ready to submit."
        shoot(page, "designer-5-completed")

        # The run's own page draws the same graph with each step's state.
        page.click("#watched-run a")
        page.wait_for_url("**/app/runs/**")
        graph = page.locator("#pipeline-graph")
        graph.locator('.design-node[data-node="step:prep"][data-status="Completed"]').wait_for()
        assert graph.locator(".react-flow__edge").count() == 2
        shoot(page, "designer-6-run-graph")


def test_build_a_sweep_over_a_component_and_watch_it_complete(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, project: Path
) -> None:
    components.create_component(ws, fit_component(project / "sweep"))
    expect = playwright_api.expect
    with checked_page(browser, site) as page:
        _new_pipeline(page, site, "tuned")
        _drop(page, "data:numbers", 80, 120)
        _drop(page, "step:sweep", 460, 120)
        node = page.locator('.design-node[data-node="step:sweep"]')
        node.click()

        # The trial from the palette's components: its inputs become the step's ports.
        page.get_by_label("trial *").select_option("azureml:fit:1")
        expect(page.locator('[data-binding="lr"]')).to_have_count(1)
        for field, value in (
            ("search_space *", "{lr: {type: choice, values: [0.5, 2.0]}}"),
            ("objective *", "{primary_metric: score, goal: maximize}"),
            ("limits", "{max_total_trials: 2, max_concurrent_trials: 2}"),
            ("sampling_algorithm", "grid"),
        ):
            box = page.get_by_label(field, exact=True)
            box.fill(value)
            box.press("Tab")
        # Searched, `lr` is no port: the data is the one input left to connect.
        expect(page.locator('[data-binding="lr"]')).to_have_count(0)
        page.select_option('[data-binding="data"] select', "input:numbers|value")
        expect(page.locator(".react-flow__edge")).to_have_count(1)
        expect(page.locator("#designer-check")).to_have_text("The pipeline is ready to submit.")
        page.click("button:has-text('YAML')")
        yaml_text = page.locator("#designer-yaml").inner_text()
        assert "trial: azureml:fit:1" in yaml_text
        assert "data: ${{parent.inputs.numbers}}" in yaml_text
        shoot(page, "designer-9-sweep")

        page.click(".design-toolbar button:has-text('Submit')")
        page.locator("#watched-run").wait_for()
        expect(node).to_have_attribute("data-status", "Completed", timeout=RUN_WAIT_MS)
        expect(page.locator("#watched-run")).to_contain_text("Completed", timeout=RUN_WAIT_MS)
        shoot(page, "designer-10-sweep-completed")

        # The run's page draws it from the recorded pipeline (its trial as the version's code).
        page.click("#watched-run a")
        page.wait_for_url("**/app/runs/**")
        graph = page.locator("#pipeline-graph")
        swept = graph.locator('.design-node[data-node="step:sweep"][data-status="Completed"]')
        expect(swept).to_contain_text("sweep over component fit:1")
        expect(graph.locator(".react-flow__edge")).to_have_count(1)


def test_a_cli_pipeline_opens_edits_undoes_and_saves_back_unchanged(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, project: Path
) -> None:
    path = project / "nightly.yml"
    path.write_text(CLI_PIPELINE)
    drafts.import_draft(ws, path)
    with checked_page(browser, site) as page:
        page.set_viewport_size({"width": 1600, "height": 1000})
        log_in(page, site, "/app/designer/nightly")
        page.locator('.design-node[data-node="step:train"]').wait_for()
        assert page.locator(".react-flow__edge").count() == 2
        page.click("button:has-text('YAML')")
        yaml_box = page.locator("#designer-yaml")
        assert yaml_box.inner_text().rstrip("\n") == CLI_PIPELINE.rstrip("\n")
        shoot(page, "designer-7-cli-opened")

        # An edit from the side panel: the step renamed where it is and where it is read.
        page.locator('.design-node[data-node="step:prep"]').click()
        name = page.get_by_label("Name *")
        name.fill("clean_up")
        name.press("Enter")
        page.locator('.design-node[data-node="step:clean_up"]').wait_for()
        assert "${{parent.jobs.clean_up.outputs.clean}}" in yaml_box.inner_text()

        # Undo from the keyboard, redo from the toolbar, undo again: the file as it came.
        page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
        page.keyboard.press("Control+z")
        page.locator('.design-node[data-node="step:prep"]').wait_for()
        page.click(".design-toolbar button:has-text('Redo')")
        page.locator('.design-node[data-node="step:clean_up"]').wait_for()
        page.click(".design-toolbar button:has-text('Undo')")
        page.locator('.design-node[data-node="step:prep"]').wait_for()

        # Auto-layout and zoom move the view, not the file.
        page.click(".design-toolbar button:has-text('Auto-layout')")
        page.click(".react-flow__controls-zoomin")
        shoot(page, "designer-8-laid-out")

        page.click(".design-toolbar button:has-text('Save')")
        playwright_api.expect(page.locator("#designer-notice")).to_have_text(
            "Saved nightly, revision 2."
        )
    out = project / "exported.yml"
    drafts.export_draft(ws, "nightly", out)
    assert out.read_bytes() == path.read_bytes()
