"""`train image-classification --data data:…`: a data asset version as the trainer's data,
resolved to its read-only copy, recorded as the run's input, shown as given."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modelyard.entities.data import DataVersionRequest, RunInput
from modelyard.errors import NotFound
from modelyard.services import data, training
from modelyard.services import runs as run_service
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.config import ImageClassificationConfig
from vision.shapes import write_shapes


def test_training_reads_a_data_asset_version_and_records_it(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    images = write_shapes(tmp_path / "shapes", per_class=2)
    data.create_data(sqlite_workspace, images, DataVersionRequest("shapes"))
    config = ImageClassificationConfig(data="data:shapes@latest")
    run = training.submit_image_classification(sqlite_workspace, "from-data", config)
    run_service.cancel_run(sqlite_workspace, run.id)
    assert data.list_run_inputs(sqlite_workspace, run.id) == [
        RunInput(run.id, "training_data", "shapes", 1)
    ]
    recorded = sqlite_workspace.store.get_run(run.id)
    assert recorded.source.arguments[:2] == ("--data", "data:shapes@latest")
    assert re.fullmatch(r"shapes \S+ \w{3} \d\d \d\d:\d\d", run.display_name or "")
    snapshot = sqlite_workspace.local_artifacts.run_root(run.id) / "snapshot" / "config.json"
    assert json.loads(snapshot.read_text())["data"] == str(
        data.data_path(sqlite_workspace, "shapes:1")
    )


def test_an_unknown_data_asset_is_refused_before_a_run_exists(
    sqlite_workspace: OpenWorkspace,
) -> None:
    config = ImageClassificationConfig(data="data:nope:2")
    with pytest.raises(NotFound, match="data asset 'nope' not found"):
        training.submit_image_classification(sqlite_workspace, "from-data", config)
    assert sqlite_workspace.store.list_experiments() == []
