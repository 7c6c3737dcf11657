"""Submitting the image-classification trainer: what is refused before any run exists."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from modelyard.errors import InvalidValue, MissingExtra
from modelyard.server import create_app
from modelyard.services import runs as run_service
from modelyard.services import training
from modelyard.services.auth import create_token, ensure_admin
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.guardrails import GUARDRAILS_FILE
from server.serving import serve
from vision.shapes import write_shapes


def submit(ws: OpenWorkspace, data: Path, **options: object) -> None:
    config = ImageClassificationConfig(data=str(data), **options)  # type: ignore[arg-type]
    training.submit_image_classification(ws, "refused", config)


def assert_nothing_written(ws: OpenWorkspace) -> None:
    assert ws.store.list_experiments() == []
    assert not any((ws.root / "artifacts").iterdir())


def test_an_empty_data_folder_is_refused_before_a_run_exists(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    data = tmp_path / "flowers"
    (data / "daisy").mkdir(parents=True)
    (data / "tulip").mkdir()

    with pytest.raises(InvalidValue) as caught:
        submit(workspace, data, output=str(tmp_path / "project"))

    assert caught.value.message.startswith(f"--data {str(data)!r} has nothing to train on")
    assert "\n" not in caught.value.message
    assert_nothing_written(workspace)
    assert not (tmp_path / "project").exists()


def test_a_table_without_rows_is_refused_before_a_run_exists(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    table = tmp_path / "images.csv"
    table.write_text("ImageSource,Label\n")

    with pytest.raises(InvalidValue, match="has a header but no rows"):
        submit(workspace, table)

    assert_nothing_written(workspace)


def test_table_rows_outside_its_folder_are_refused_before_a_run_exists(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    write_shapes(tmp_path / "elsewhere", per_class=1)
    table = tmp_path / "tables" / "images.csv"
    table.parent.mkdir()
    table.write_text(
        "ImageSource,Label\n../elsewhere/red circle/image 0.png,red circle\n"
        f"{tmp_path / 'elsewhere' / 'blue triangle' / 'image 0.png'},blue triangle\n"
    )

    with pytest.raises(InvalidValue) as caught:
        submit(workspace, table)

    message = caught.value.message
    assert "2 rows name an image outside the table's folder" in message
    assert "line 2 '../elsewhere/red circle/image 0.png' (climbs out" in message
    assert "line 3 " in message and "(an absolute path)" in message
    assert "--allow-paths-outside-table" in message
    assert_nothing_written(workspace)


@pytest.fixture
def remote_workspace(tmp_path: Path) -> Iterator[OpenWorkspace]:
    served = create_workspace("served-ws", path=tmp_path / "server-side")
    ensure_admin(served)
    try:
        with serve(create_app(served)) as url:
            remote = open_remote_workspace(url, create_token(served, "laptop")[1])
            try:
                yield remote
            finally:
                remote.close()
    finally:
        served.close()


def test_paths_outside_the_table_are_refused_for_a_workspace_behind_a_server(
    remote_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    # Only the table's folder travels with the job: a row outside it would be read on the server.
    table = tmp_path / "images.csv"
    table.write_text("ImageSource,Label\n../x.png,cat\n")

    with pytest.raises(InvalidValue) as caught:
        submit(remote_workspace, table, allow_paths_outside_table=True)

    assert caught.value.message.startswith(
        "--allow-paths-outside-table with a workspace behind a server"
    )
    assert remote_workspace.store.list_experiments() == []


def test_without_the_vision_extra_nothing_is_submitted(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "images" / "cat").mkdir(parents=True)
    monkeypatch.setitem(sys.modules, "torch", None)  # None in sys.modules: import blocked
    config = ImageClassificationConfig(data=str(tmp_path / "images"))
    with pytest.raises(MissingExtra, match=r"pip install 'modelyard\[vision\]'"):
        training.submit_image_classification(sqlite_workspace, "cats", config)
    assert sqlite_workspace.store.list_runs() == []


def test_the_guardrails_report_is_read_where_the_trainer_writes_it() -> None:
    # Spelled out in services/training.py, so reading a report needs no Pillow.
    assert f"outputs/{GUARDRAILS_FILE}" == training.GUARDRAILS_ARTIFACT


def test_a_run_is_named_after_its_data_and_shows_the_built_in_job_as_its_source(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    # Not "image-classification efficientnet-lite0" for every run, nor the internal
    # `-m modelyard.builtin_jobs… --config config.json` as the script; a given name still wins.
    data = write_shapes(tmp_path / "garden flowers", per_class=2)
    config = ImageClassificationConfig(data=str(data), backbone="efficientnet-lite0")
    named = training.submit_image_classification(sqlite_workspace, "naming", config)
    given = training.submit_image_classification(sqlite_workspace, "naming", config, "mine")
    for run in (named, given):
        run_service.cancel_run(sqlite_workspace, run.id)
    assert re.fullmatch(
        r"garden flowers efficientnet-lite0 \w{3} \d\d \d\d:\d\d", named.display_name or ""
    )
    assert given.display_name == "mine"
    source = sqlite_workspace.store.get_run(named.id).source
    assert source.script == "image classification (built-in)"
    assert source.arguments == ("--data", str(data), "--backbone", "efficientnet-lite0")


def test_a_tables_runs_are_named_after_the_table() -> None:
    config = ImageClassificationConfig(data="/data/pets/labels.csv", backbone="resnet50")
    when = datetime(2026, 3, 9, 7, 5)
    assert training.default_run_name(config, when) == "labels resnet50 Mar 09 07:05"
