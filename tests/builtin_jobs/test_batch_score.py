"""Batch scoring as real jobs: real supervisor processes on the local compute, the vision tests'
real tiny ONNX classifier registered in the real registry, a folder of generated images with
unreadable files among them, the error threshold both ways, and a real preemption half-way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import batch_scoring, computes, jobs, models, runs
from modelyard.services.workspaces import OpenWorkspace
from modelyard.serving.image_model import load_image_model
from polling import wait_for
from vision.conftest import save_square

pytest_plugins = ["vision.conftest"]

COLOURS = [(220, 30, 30), (30, 200, 40), (20, 40, 230), (240, 240, 20)]
UNREADABLE = {"broken.jpg": b"not an image at all", "sub/empty.png": b""}


@pytest.fixture
def model(
    sqlite_workspace: OpenWorkspace,
    tmp_path: Path,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> str:
    """The tiny classifier's three files, as a training run writes them, registered as pets:1
    with the alias `champion`."""
    folder = tmp_path / "model"
    folder.mkdir()
    for source in (tiny_model_zip, tiny_onnx_model, tiny_label_map):
        shutil.copy(source, folder / source.name)
    version = models.register_model(sqlite_workspace, folder, ModelVersionRequest("pets"))
    models.set_alias(sqlite_workspace, "pets", "champion", version.version)
    return "pets@champion"


def image_folder(root: Path, count: int, unreadable: dict[str, bytes] | None = None) -> Path:
    """`count` PNGs in two subfolders, the unreadable files given, and a hidden file (not data)."""
    for index in range(count):
        (root / f"set{index % 2}").mkdir(parents=True, exist_ok=True)
        colour = COLOURS[index % len(COLOURS)]
        save_square(root / f"set{index % 2}" / f"image {index:03d}.png", colour, (64 + index, 80))
    for name, data in (unreadable or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".DS_Store").write_bytes(b"\0\1")
    return root


def artifact_lines(ws: OpenWorkspace, run_id: str, name: str) -> list[dict[str, object]]:
    with ws.artifacts.open_read(run_id, f"outputs/{name}") as handle:
        return [json.loads(line) for line in handle.read().decode().splitlines()]


def artifact_names(ws: OpenWorkspace, run_id: str) -> list[str]:
    return sorted(info.path for info in ws.artifacts.list(run_id, "outputs"))


def test_every_file_is_scored_once_and_unreadable_ones_are_listed(
    sqlite_workspace: OpenWorkspace, model: str, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = image_folder(tmp_path / "images", 9, UNREADABLE)
    run = batch_scoring.submit_batch_score(ws, model, data, mini_batch_size=4)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=180)
    assert final.status is RunStatus.COMPLETED, final.error

    predictions = artifact_lines(ws, run.id, "predictions.jsonl")
    images = sorted(p.relative_to(data).as_posix() for p in data.rglob("*.png") if p.stat().st_size)
    assert [line["file"] for line in predictions] == images
    scorer = load_image_model(models.model_dir(ws, "pets:1"))
    first = scorer.predict([scorer.preprocess((data / images[0]).read_bytes())])[0]
    assert predictions[0]["Prediction"] == first["Prediction"]
    assert predictions[0]["Score"] == pytest.approx(first["Score"])
    failed = artifact_lines(ws, run.id, "unreadable.jsonl")
    assert [(line["file"], line["reason"]) for line in failed] == [
        ("broken.jpg", "not_an_image"),
        ("sub/empty.png", "empty"),
    ]
    run_data = ws.store.get_run_data(run.id)
    assert run_data.latest_metrics["files_scored"] == 9
    assert run_data.latest_metrics["files_failed"] == 2
    assert run_data.latest_metrics["images_per_s"] > 0
    assert run_data.params["model"] == "pets:1"
    assert [p.step for p in ws.store.get_metric_history(run.id, "files_scored")] == [4, 8, 11]

    output = tmp_path / "preds.jsonl"
    assert batch_scoring.download_predictions(ws, run.id, output)
    assert [json.loads(line) for line in output.read_text().splitlines()] == predictions
    assert runs.get_run(ws, run.id).source.script == batch_scoring.BATCH_SCORE_TITLE


@pytest.mark.parametrize("threshold", ["1", "10%"])
def test_more_failures_than_the_threshold_fail_the_run_with_one_line(
    sqlite_workspace: OpenWorkspace, model: str, tmp_path: Path, threshold: str
) -> None:
    ws = sqlite_workspace
    data = image_folder(tmp_path / "images", 9, UNREADABLE)  # 2 of 11 files fail: 18 %
    run = batch_scoring.submit_batch_score(ws, model, data, error_threshold=threshold)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=180)

    assert final.status is RunStatus.FAILED
    assert final.error is not None and "\n" not in final.error.strip()
    assert final.error.startswith("error threshold exceeded: 2 files could not be scored")
    assert f"--error-threshold {threshold}" in final.error
    # The failures are listed; no predictions pass for a result.
    assert artifact_names(ws, run.id) == ["outputs/unreadable.jsonl"]
    assert len(artifact_lines(ws, run.id, "unreadable.jsonl")) == 2
    assert not batch_scoring.download_predictions(ws, run.id, tmp_path / "preds.jsonl")
    assert not (tmp_path / "preds.jsonl").exists()


@pytest.mark.parametrize("threshold", ["2", "20%"])
def test_failures_within_the_threshold_let_the_run_complete(
    sqlite_workspace: OpenWorkspace, model: str, tmp_path: Path, threshold: str
) -> None:
    ws = sqlite_workspace
    data = image_folder(tmp_path / "images", 9, UNREADABLE)
    run = batch_scoring.submit_batch_score(ws, model, data, error_threshold=threshold)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=180)
    assert final.status is RunStatus.COMPLETED, final.error
    assert len(artifact_lines(ws, run.id, "predictions.jsonl")) == 9


def test_a_preempted_job_resumes_and_scores_every_file_exactly_once(
    sqlite_workspace: OpenWorkspace, model: str, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    compute = computes.create_compute(
        ws, ComputeRequest(name="cheap", size="Standard_DS1_v2", priority=Priority.LOW_PRIORITY)
    )
    assert compute.state is ProvisioningState.SUCCEEDED, compute.errors
    data = image_folder(tmp_path / "images", 30, {"broken.jpg": b"nope"})
    run = batch_scoring.submit_batch_score(
        ws, model, data, compute_target="cheap", mini_batch_size=2, pause_s=0.2
    )
    scored = lambda: ws.store.get_run_data(run.id).latest_metrics.get("files_scored", 0)  # noqa: E731
    wait_for(lambda: scored() >= 6, timeout=120)
    assert [r.id for r in computes.preempt(ws, "cheap")] == [run.id]
    wait_for(lambda: runs.get_run(ws, run.id).attempt == 2, timeout=120)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=180)
    assert final.status is RunStatus.COMPLETED, final.error

    names = [line["file"] for line in artifact_lines(ws, run.id, "predictions.jsonl")]
    assert len(names) == len(set(names)) == 30
    assert names == sorted(names)
    assert [line["file"] for line in artifact_lines(ws, run.id, "unreadable.jsonl")] == [
        "broken.jpg"
    ]
    attempts = ws.compute_store.list_attempts(run.id)
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, RunStatus.PREEMPTED)]
    log = (ws.local_artifacts.run_root(run.id) / "logs/std_log.txt").read_text()
    resumed = [line for line in log.splitlines() if line.startswith("attempt 2:")]
    assert resumed and "0 already in the output" not in resumed[0], log


def test_bad_input_is_refused_before_any_run_exists(
    sqlite_workspace: OpenWorkspace, model: str, tmp_path: Path, tiny_label_map: Path
) -> None:
    ws = sqlite_workspace
    data = image_folder(tmp_path / "images", 2)
    (tmp_path / "empty").mkdir()
    (tmp_path / "only-hidden").mkdir()
    (tmp_path / "only-hidden" / ".keep").write_text("")
    not_a_classifier = tmp_path / "labels"
    not_a_classifier.mkdir()
    shutil.copy(tiny_label_map, not_a_classifier / "labels.json")
    models.register_model(ws, not_a_classifier, ModelVersionRequest("labels"))
    refusals: list[tuple[type[Exception], str, dict[str, object]]] = [
        (NotFound, "nobody@champion", {"data": data}),
        (NotFound, "pets:7", {"data": data}),
        (InvalidValue, "labels", {"data": data}),
        (NotFound, model, {"data": tmp_path / "missing"}),
        (InvalidValue, model, {"data": tmp_path / "empty"}),
        (InvalidValue, model, {"data": tmp_path / "only-hidden"}),
        (InvalidValue, model, {"data": data, "error_threshold": "lots"}),
        (InvalidValue, model, {"data": data, "mini_batch_size": 0}),
        (NotFound, model, {"data": data, "compute_target": "nowhere"}),
    ]
    for error_type, reference, options in refusals:
        with pytest.raises(error_type) as caught:
            batch_scoring.submit_batch_score(ws, reference, **options)  # type: ignore[arg-type]
        assert "\n" not in caught.value.message  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="does not exist"):
        batch_scoring.check_output_file(tmp_path / "missing" / "preds.jsonl")
    with pytest.raises(InvalidValue, match="is a folder"):
        batch_scoring.check_output_file(tmp_path)
    assert ws.store.list_runs("batch-score") == []
