"""`modelyard.batch_score`: the batch-scoring job from Python, with a real workspace, the
vision tests' tiny classifier registered through `Model.register`, and a real local job."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import modelyard
from modelyard import JobFailed, Model, RunStatus, Workspace
from vision.conftest import save_square

pytest_plugins = ["vision.conftest"]


@pytest.fixture
def ws(
    tmp_path: Path, tiny_model_zip: Path, tiny_onnx_model: Path, tiny_label_map: Path
) -> Workspace:
    workspace = Workspace.create("sdk-ws", path=tmp_path / "ws")
    folder = tmp_path / "outputs"
    folder.mkdir()
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    Model.register(workspace, model_path=str(folder), model_name="pets")
    yield workspace  # type: ignore[misc]
    workspace.close()


def test_batch_score_writes_the_predictions_and_returns_the_run(
    ws: Workspace, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    save_square(images / "a.png", (220, 30, 30), (50, 60))
    save_square(images / "b.png", (30, 30, 220), (60, 50))
    run = modelyard.batch_score(ws, "pets:1", images, output=tmp_path / "preds.jsonl")
    assert run.get_status() == RunStatus.COMPLETED.value
    lines = (tmp_path / "preds.jsonl").read_text().splitlines()
    assert [json.loads(line)["file"] for line in lines] == ["a.png", "b.png"]


def test_a_run_past_its_threshold_raises_and_writes_nothing(ws: Workspace, tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    (images / "broken.png").write_bytes(b"not a png")
    with pytest.raises(JobFailed, match="error threshold exceeded"):
        modelyard.batch_score(ws, "pets", images, output=tmp_path / "p.jsonl", error_threshold=0)
    assert not (tmp_path / "p.jsonl").exists()
