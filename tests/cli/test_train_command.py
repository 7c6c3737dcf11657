"""`modelyard train image-classification` as a user types it, in real subprocesses."""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from cli.commands import home_of_its_own, modelyard
from modelyard.cli.train import result_metrics
from modelyard.vision.config import ImageClassificationConfig, cli_flag
from vision.shapes import write_shapes


def _create_project(folder: Path) -> Path:
    folder.mkdir()
    created = modelyard(
        "workspace", "create", "train-ws", "--path", str(folder.parent / "ws"), cwd=folder
    )
    assert created.returncode == 0, created.stderr
    write_shapes(folder / "shapes", per_class=6)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each records no run (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(tmp_path_factory.mktemp("refusing") / "project")


FAST = ["--backbone", "resnet18", "--weights", "none", "--epochs", "3"]


def test_trains_follows_with_progress_and_prints_results_and_outputs(project: Path) -> None:
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        "shapes",
        "-e",
        "shapes",
        *FAST,
        "--output",
        "model",
        "--register",
        "shapes-model",
        cwd=project,
        timeout=600,
    )
    out = result.stdout
    assert "Follow it with: modelyard run logs" in out
    assert "epochs" in out and "3/3" in out  # the epoch progress bar, finished
    assert "accuracy" in out and "onnx_max_abs_diff" in out
    for name in ("outputs/bestModel.onnx", "outputs/MLModel.zip", "outputs/MLModel.Model/"):
        assert name in out
    assert "Predict with: modelyard predict --model model/MLModel.zip IMAGE" in out
    predicted = modelyard(
        "predict",
        "--model",
        "model/MLModel.zip",
        "shapes/red circle/image 0.png",
        "-o",
        "json",
        cwd=project,
    )
    (entry,) = json.loads(predicted.stdout)
    assert entry["prediction"] in {"red circle", "green square", "blue triangle"}
    _check_registered(project, out)


def _check_registered(project: Path, out: str) -> None:
    """--register: the completed run's outputs as version 1, Model Builder's three files with
    the schema; the --output project folder registers the same files."""
    assert "Registered shapes-model:1 (onnx-image-classification)" in out
    shown = json.loads(modelyard("model", "show", "shapes-model", "-o", "json", cwd=project).stdout)
    assert sorted(f["path"] for f in shown["files"]) == [
        "MLModel.zip",
        "bestModel.onnx",
        "bestModelMap.json",
    ]
    assert sorted(shown["output_schema"]["labels"]) == [
        "blue triangle",
        "green square",
        "red circle",
    ]
    assert shown["lineage"]["experiment"] == "shapes" and shown["lineage"]["data_hash"]
    project_version = json.loads(
        modelyard("model", "register", "model", "--name", "p", "-o", "json", cwd=project).stdout
    )
    assert project_version["files"] == shown["files"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--epochs", "0"], "--epochs 0 is out of range: use a whole number from 1"),
        (["--learning-rate", "-0.5"], "--learning-rate -0.5 must be a number above 0"),
        (["--backbone", "vgg"], "unknown backbone 'vgg': choose one of resnet50"),
        (["--weights", "nowhere.pt"], "weights file 'nowhere.pt' does not exist"),
        (["--compute", "gpu-cluster"], "gpu-cluster"),
        # Options the CLI once lacked: derived from the config now, checked by it.
        (["--learning-rate-decay", "1.5"], "learning-rate-decay"),
        (["--decay-every-epochs", "0"], "--decay-every-epochs 0 is out of range"),
        (["--register", "bad name"], "invalid model name 'bad name'"),
        (["--register", "m", "--no-wait"], "--register m with --no-wait"),
    ],
)
def test_bad_options_are_one_line_errors_and_create_no_run(
    refusing: Path, arguments: list[str], message: str
) -> None:
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        "shapes",
        "-e",
        "bad",
        *arguments,
        cwd=refusing,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    listed = modelyard("run", "list", "-o", "json", cwd=refusing)
    assert json.loads(listed.stdout) == []


def test_every_config_field_is_an_option_with_its_default_and_help(tmp_path: Path) -> None:
    shown = " ".join(
        modelyard("train", "image-classification", "--help", cwd=tmp_path).stdout.split()
    )
    for item in fields(ImageClassificationConfig):
        assert f"{cli_flag(item)} " in shown, item.name
        assert " ".join(item.metadata["help"].split()) in shown, item.name
        if item.default not in (MISSING, None, False):
            assert f"[default: {item.default}]" in shown, item.name


def test_missing_data_is_a_one_line_error(project: Path) -> None:
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        "nope",
        "-e",
        "bad",
        *FAST,
        cwd=project,
        check=False,
    )
    assert result.returncode == 1
    assert "data 'nope' does not exist" in result.stderr


def test_a_guardrail_failure_prints_the_report_and_exits_1(project: Path) -> None:
    data = project / "one class"
    write_shapes(data, per_class=3)
    for label in ("green square", "blue triangle"):
        for image in (data / label).iterdir():
            image.unlink()
        (data / label).rmdir()
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        str(data),
        "-e",
        "one",
        *FAST,
        cwd=project,
        check=False,
        timeout=600,
    )
    assert result.returncode == 1
    assert "Guardrails" in result.stdout and "too_few_classes" in result.stdout
    assert "stopped: guardrails failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_table_without_the_columns_is_refused_before_a_run_exists(project: Path) -> None:
    table = project / "images.csv"
    table.write_text("path,label\nshapes/red circle/image 0.png,red circle\n")
    result = modelyard(
        "train", "image-classification", "--data", "images.csv", "-e", "t", cwd=project, check=False
    )
    assert result.returncode == 1
    assert "ImageSource" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout) == []


def test_an_empty_data_folder_is_refused_before_a_run_exists(project: Path) -> None:
    (project / "empty" / "daisy").mkdir(parents=True)
    result = modelyard(
        "train", "image-classification", "--data", "empty", "-e", "t", cwd=project, check=False
    )
    assert result.returncode == 1
    assert "has nothing to train on" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout) == []


@pytest.mark.parametrize("made", ["empty", "missing"])
def test_an_empty_or_missing_validation_folder_is_named_by_its_option(
    refusing: Path, made: str
) -> None:
    folder = refusing / f"{made} check"
    if made == "empty":
        (folder / "daisy").mkdir(parents=True)
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        "shapes",
        "--validation-data",
        folder.name,
        "-e",
        "t",
        cwd=refusing,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert (
        f"--validation-data {str(folder)!r}" in line or f"--validation-data {folder.name!r}" in line
    )
    assert "--data " not in line
    assert json.loads(modelyard("run", "list", "-o", "json", cwd=refusing).stdout) == []


def test_table_rows_outside_its_folder_need_allow_paths_outside_table(project: Path) -> None:
    tables = project / "tables"
    tables.mkdir()
    (tables / "images.csv").write_text(
        "ImageSource,Label\n../shapes/red circle/image 0.png,red circle\n"
        "../shapes/blue triangle/image 0.png,blue triangle\n"
    )
    command = ["train", "image-classification", "--data", "tables/images.csv", "-e", "t"]
    # A compute whose provisioning failed (a size no machine here has) refuses jobs after the
    # data checks, before a run exists: the second call reaching it shows the option let the
    # rows through.
    modelyard("compute", "create", "broken", "--size", "Standard_NC24", cwd=project, check=False)
    refused = modelyard(*command, "--compute", "broken", cwd=project, check=False)
    allowed = modelyard(
        *command, "--compute", "broken", "--allow-paths-outside-table", cwd=project, check=False
    )
    assert refused.returncode == 1 and "outside the table's folder" in refused.stderr
    assert "line 2 '../shapes/red circle/image 0.png'" in refused.stderr
    assert allowed.returncode == 1 and "compute broken is in a failed state" in allowed.stderr
    assert "outside the table's folder" not in allowed.stderr
    assert json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout) == []


def test_many_bad_files_are_summarised_by_reason_with_the_first_few(project: Path) -> None:
    data = project / "junk"
    write_shapes(data, per_class=3)
    for index in range(58):  # named like images, holding text
        (data / "red circle" / f"notes {index:02d}.png").write_text("not an image")
    result = modelyard(
        "train", "image-classification", "--data", str(data), "-e", "junk", *FAST,
        cwd=project, check=False, timeout=600, columns=80,
    )  # fmt: skip
    assert result.returncode == 1 and "stopped: guardrails failed" in result.stderr
    out = result.stdout
    guardrails = out[out.index("Guardrails") :]
    whole_paths = re.findall(re.escape(str(data / "red circle")) + r"/notes \d\d\.png", out)
    assert len(whole_paths) == 3, out  # the first few files, each on one line; not 58 rows
    assert re.search(r"│ warning\s+│ not_an_image\s+│ 58\s+│", guardrails), guardrails
    assert "… and 55 more" in guardrails
    assert "too_many_bad_files" in guardrails
    assert "modelyard run artifacts download" in guardrails and "outputs/guardrails.json" in out
    run_id = json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout)[0]["id"]
    modelyard("run", "artifacts", "download", run_id, "outputs/guardrails.json", cwd=project)
    report = json.loads((project / "guardrails.json").read_text())
    assert len([w for w in report["warnings"] if w["kind"] == "unreadable"]) == 58


def test_results_show_no_featurizing_rate_when_the_cache_served_every_image() -> None:
    warm = {"accuracy": 0.9, "featurize_images_per_s": 0.0, "featurized_images_computed": 0.0}
    assert result_metrics(warm) == {"accuracy": 0.9}
    cold = {**warm, "featurize_images_per_s": 120.5, "featurized_images_computed": 12.0}
    assert result_metrics(cold) == {"accuracy": 0.9, "featurize_images_per_s": 120.5}
