"""The image-classification job end to end: submitted like any job, run by a real supervisor."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PIL import Image
from shapes import CLASSES, write_shapes

from modelyard.entities import RunStatus
from modelyard.services import jobs, run_files, training
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.backbones import load_backbone
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.features import FeatureCache
from modelyard.vision.train import Trainer

FAST = {"backbone": "resnet18", "weights": "none", "epochs": 4}
LABELS = sorted(CLASSES)


def _train(ws: OpenWorkspace, data: Path, **options: object) -> tuple[str, RunStatus]:
    config = ImageClassificationConfig(data=str(data), **{**FAST, **options})  # type: ignore[arg-type]
    run = training.submit_image_classification(ws, "shapes", config)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=600)
    return run.id, final.status


def _log(ws: OpenWorkspace, run_id: str) -> str:
    return (ws.artifacts.run_root(run_id) / run_files.STD_LOG).read_text()


def _output(ws: OpenWorkspace, run_id: str, name: str) -> Path:
    return ws.artifacts.run_root(run_id) / "outputs" / name


def test_a_training_run_writes_every_output_and_logs_every_epoch(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=8)
    project = tmp_path / "project"
    previous_umask = os.umask(0o022)  # the job inherits it
    try:
        run_id, status = _train(ws, data, output=str(project))
    finally:
        os.umask(previous_umask)
    assert status is RunStatus.COMPLETED, _log(ws, run_id)

    model = onnx.load(str(_output(ws, run_id, "bestModel.onnx")))
    onnx.checker.check_model(model)
    (graph_input,) = model.graph.input
    assert graph_input.name == "input1"
    dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert dims == ["batch", 3, 224, 224]
    assert [output.name for output in model.graph.output] == ["output1"]
    assert json.loads(_output(ws, run_id, "bestModelMap.json").read_text()) == LABELS
    with zipfile.ZipFile(_output(ws, run_id, "MLModel.zip")) as archive:
        assert sorted(archive.namelist()) == [
            "bestModel.onnx",
            "bestModelMap.json",
            "manifest.json",
        ]
    for name in (
        "guardrails.json",
        "evaluation/evaluation.json",
        "evaluation/confusion_matrix.json",
        "evaluation/confusion_matrix.png",
        "evaluation/misclassified.json",
        "MLModel.Model/consume_model.py",
        "MLModel.Model/model_input.py",
        "MLModel.Model/model_output.py",
        "MLModel.Model/requirements.txt",
        "MLModel.ConsoleApp/main.py",
    ):
        assert _output(ws, run_id, name).is_file(), name
        assert (project / name).is_file(), name
    # Each mistake's image is saved as a thumbnail beside misclassified.json, for the portal.
    mistakes = json.loads(_output(ws, run_id, "evaluation/misclassified.json").read_text())
    for item in mistakes:
        assert _output(ws, run_id, f"evaluation/{item['thumbnail']}").is_file(), item
    # Every file of the project as any new file under umask 022, not 0600.
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in project.rglob("*")}
    assert {name for name, mode in modes.items() if mode not in (0o644, 0o755)} == set()

    data_logged = ws.store.get_run_data(run_id)
    assert data_logged.properties["data_file_count"] == "24"
    assert json.loads(data_logged.properties["data_class_counts"]) == dict.fromkeys(LABELS, 8)
    assert len(data_logged.properties["data_content_hash"]) == 64
    assert data_logged.params["backbone"] == "resnet18"
    assert data_logged.latest_metrics["onnx_max_abs_diff"] < 1e-3
    epochs = ws.store.get_metric_history(run_id, "validation_accuracy")
    assert [point.step for point in epochs] == [1, 2, 3, 4]
    rates = [point.value for point in ws.store.get_metric_history(run_id, "learning_rate")]
    assert rates == pytest.approx([0.01, 0.01, 0.0094, 0.0094])
    for name in ("train_accuracy", "train_loss", "validation_loss"):
        assert len(ws.store.get_metric_history(run_id, name)) == 4


def test_the_same_data_config_and_seed_give_the_same_metrics_from_a_warm_cache(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=6)
    first, _ = _train(ws, data)
    copy = write_shapes(tmp_path / "same images elsewhere", per_class=6)
    second, status = _train(ws, copy)
    assert status is RunStatus.COMPLETED, _log(ws, second)
    one, two = ws.store.get_run_data(first), ws.store.get_run_data(second)
    assert two.latest_metrics["feature_cache_hits"] == 18
    assert two.latest_metrics["featurized_images_computed"] == 0
    assert one.latest_metrics["guardrail_cache_hits"] == 0
    assert two.latest_metrics["guardrail_cache_hits"] == 18
    assert one.properties["data_content_hash"] == two.properties["data_content_hash"]
    for name in ("accuracy", "validation_accuracy", "train_loss", "log_loss"):
        assert one.latest_metrics[name] == two.latest_metrics[name], name
    # Both models are the cached featurizer with the same head appended: the same bytes.
    model = "bestModel.onnx"
    assert _output(ws, first, model).read_bytes() == _output(ws, second, model).read_bytes()
    assert two.latest_metrics["onnx_max_abs_diff"] < 1e-3


def test_a_featurizer_missing_from_the_cache_is_exported_there_again(tmp_path: Path) -> None:
    # Features computed by the torch engine leave no featurizer.onnx; the model needs one.
    config = ImageClassificationConfig(data=str(tmp_path), backbone="resnet18", weights="none")
    trainer = Trainer(config, tmp_path / "features", run=None)
    backbone = load_backbone("resnet18", "none")
    cache = FeatureCache(tmp_path / "features", backbone, trainer.spec)

    path = trainer._featurizer(backbone, cache)

    assert path == cache.engine_model() and path.is_file()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    pixels = np.zeros((2, 3, 224, 224), dtype=np.float32)
    assert session.run(None, {"input1": pixels})[0].shape == (2, backbone.feature_dim)


def test_a_guardrail_failure_stops_the_run_before_training(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=4)
    for label in LABELS[1:]:
        for image in (data / label).iterdir():
            image.unlink()
        (data / label).rmdir()
    run_id, status = _train(ws, data)
    assert status is RunStatus.FAILED
    report = json.loads(_output(ws, run_id, "guardrails.json").read_text())
    assert report["passed"] is False
    assert report["errors"][0]["kind"] == "too_few_classes"
    error = ws.store.get_run(run_id).error or ""
    assert error.startswith("guardrails failed: 1 error")  # the trainer's words, no log tail
    assert "exited with code" not in error
    assert not _output(ws, run_id, "bestModel.onnx").exists()
    assert not _output(ws, run_id, "MLModel.zip").exists()


def test_bad_files_are_listed_and_skipped_and_the_rest_trains(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=10)
    folder = data / LABELS[0]
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("not an image")
    good = (folder / "image 0.png").read_bytes()
    (folder / "truncated ✂.png").write_bytes(good[: len(good) // 2])
    run_id, status = _train(ws, data, epochs=2)
    assert status is RunStatus.COMPLETED, _log(ws, run_id)
    report = json.loads(_output(ws, run_id, "guardrails.json").read_text())
    bad = {
        Path(issue["path"]).name for issue in report["warnings"] if issue["kind"] == "unreadable"
    }
    assert bad == {"empty.png", "notes.png", "truncated ✂.png"}
    assert ws.store.get_run_data(run_id).properties["data_usable_count"] == "30"


def test_fine_tune_trains_the_whole_network_and_checkpoints_in_the_run(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=3, size=(32, 32))
    run_id, status = _train(ws, data, fine_tune=True, epochs=1, batch_size=4)
    assert status is RunStatus.COMPLETED, _log(ws, run_id)
    assert (ws.artifacts.run_root(run_id) / "checkpoints" / "checkpoint.pt").is_file()
    assert "fine-tune: resnet18, whole network" in _log(ws, run_id)
    assert _output(ws, run_id, "MLModel.zip").is_file()


@pytest.mark.slow
def test_the_default_resnet50_path_end_to_end_at_224(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=3, size=(224, 224))
    import torchvision

    weights = tmp_path / "resnet50.pt"
    torch.save(torchvision.models.resnet50().state_dict(), weights)  # no internet for ImageNet
    config = ImageClassificationConfig(data=str(data), weights=str(weights), epochs=2)
    assert config.backbone == "resnet50"
    run = training.submit_image_classification(ws, "resnet50", config)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=600)
    assert final.status is RunStatus.COMPLETED, _log(ws, run.id)
    properties = ws.store.get_run_data(run.id).properties
    assert properties["weights_id"].startswith("file-")
    with Image.open(data / LABELS[0] / "image 0.png") as image:
        assert image.size == (224, 224)


def _write_digits(folder: Path, per_class: int) -> Path:
    from modelyard.demo.run_demo import write_digits

    return write_digits(folder, per_class)


@pytest.mark.slow
def test_efficientnet_lite0_imagenet_weights_clearly_beat_random_init_on_digits(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = _write_digits(tmp_path / "digits", per_class=30)
    options = {"backbone": "efficientnet-lite0", "epochs": 40, "validation_fraction": 0.3}
    pretrained, status = _train(ws, data, weights="imagenet", **options)
    assert status is RunStatus.COMPLETED, _log(ws, pretrained)
    random_init, status = _train(ws, data, weights="none", **options)
    assert status is RunStatus.COMPLETED, _log(ws, random_init)
    accuracy = {
        run_id: ws.store.get_run_data(run_id).latest_metrics["accuracy"]
        for run_id in (pretrained, random_init)
    }
    assert accuracy[pretrained] >= accuracy[random_init] + 0.15, accuracy


def test_a_table_of_image_sources_and_labels_trains_like_a_folder(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    data = write_shapes(tmp_path / "data", per_class=4)
    rows = [
        f"{image.relative_to(tmp_path)}\t{label}"
        for label in LABELS
        for image in sorted((data / label).iterdir())
    ]
    table = tmp_path / "images.tsv"
    table.write_text("ImageSource\tLabel\n" + "\n".join(rows) + "\n")
    run_id, status = _train(ws, table, epochs=2)
    assert status is RunStatus.COMPLETED, _log(ws, run_id)
    assert json.loads(_output(ws, run_id, "bestModelMap.json").read_text()) == LABELS
