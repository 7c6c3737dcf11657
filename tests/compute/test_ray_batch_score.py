"""Batch scoring on a Ray compute: the model's files and the images travel in the job's
snapshot, and a preemption on a low-priority Ray compute resumes on Ray from the output the
first attempt left in its checkpoints, every file in the result exactly once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from builtin_jobs.test_batch_score import image_folder
from compute.conftest import RayHead
from compute.test_ray_flow import (
    DEADLINE_S,
    USER,
    _create_ray_compute,
    _std_log,
    _wait_for,
    served,  # noqa: F401 (a fixture)
)
from modelyard.entities import RunStatus
from modelyard.entities.compute import Priority
from modelyard.entities.registry import ModelVersionRequest
from modelyard.services import batch_scoring, computes, jobs, models
from modelyard.services.workspaces import OpenWorkspace

pytest_plugins = ["vision.conftest"]


def test_a_batch_score_preempted_on_ray_resumes_there_with_every_file_once(
    served: OpenWorkspace,  # noqa: F811
    ray_head: RayHead,
    tmp_path: Path,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> None:
    ws = served
    folder = tmp_path / "model"
    folder.mkdir()
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    models.register_model(ws, folder, ModelVersionRequest("pets"))
    _create_ray_compute(ws, "ray-cheap", ray_head.address, priority=Priority.LOW_PRIORITY)
    data = image_folder(tmp_path / "images", 24, {"broken.jpg": b"nope"})
    run = batch_scoring.submit_batch_score(
        ws, "pets", data, compute_target="ray-cheap", mini_batch_size=2, pause_s=0.3, user=USER
    )
    metrics = lambda: ws.store.get_run_data(run.id).latest_metrics  # noqa: E731
    _wait_for(lambda: metrics().get("files_scored", 0) >= 4)
    assert [r.id for r in computes.preempt(ws, "ray-cheap")] == [run.id]
    _wait_for(lambda: ws.store.get_run(run.id).attempt == 2)

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    with ws.artifacts.open_read(run.id, "outputs/predictions.jsonl") as handle:
        names = [json.loads(line)["file"] for line in handle.read().decode().splitlines()]
    assert len(names) == len(set(names)) == 24
    log = _wait_for(lambda: "attempt 2:" in (text := _std_log(ws, run.id)) and text)
    resumed = log.split("attempt 2: ")[1].splitlines()[0]
    assert "25 files" in resumed and " 0 already in the output" not in resumed, log
    output = tmp_path / "preds.jsonl"
    assert batch_scoring.download_predictions(ws, run.id, output)
    assert len(output.read_text().splitlines()) == 24
