"""`modelyard batch-score` as a user types it: a real subprocess, a real workspace on disk, the
tiny classifier registered with `modelyard model register`, and a real job on the local compute."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.commands import home_of_its_own, modelyard
from modelyard.services.workspaces import open_workspace
from vision.conftest import save_square

pytest_plugins = ["vision.conftest"]


def _create_project(folder: Path, model_files: list[Path]) -> Path:
    model = folder / "model"
    model.mkdir(parents=True)
    for source in model_files:
        shutil.copy(source, model / source.name)
    images = folder / "images"
    images.mkdir()
    for index, colour in enumerate([(220, 30, 30), (30, 200, 40), (20, 40, 230)]):
        save_square(images / f"{index}.png", colour, (90, 70))
    (images / "broken.jpg").write_bytes(b"not an image")
    modelyard("workspace", "create", "batch-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    modelyard("model", "register", "model", "--name", "pets", cwd=folder)
    modelyard("model", "alias", "set", "pets", "champion", "1", cwd=folder)
    return folder


@pytest.fixture
def project(
    tmp_path: Path, tiny_model_zip: Path, tiny_onnx_model: Path, tiny_label_map: Path
) -> Path:
    return _create_project(tmp_path / "project", [tiny_model_zip, tiny_onnx_model, tiny_label_map])


@pytest.fixture(scope="module")
def refusing(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
) -> Path:
    """One project for the refusals: each starts no run (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(
            tmp_path_factory.mktemp("refusing") / "project",
            [tiny_model_zip, tiny_onnx_model, tiny_label_map],
        )


def one_line_error(result: object) -> str:
    assert result.returncode == 1, result.stdout + result.stderr  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # type: ignore[attr-defined]
    return str(lines[0])


def test_batch_score_writes_one_line_per_image_to_the_output(project: Path) -> None:
    result = modelyard(
        "batch-score", "--model", "pets@champion", "--data", "images",
        "--output", "preds.jsonl", "--mini-batch-size", "2", cwd=project,
    )  # fmt: skip
    lines = [json.loads(line) for line in (project / "preds.jsonl").read_text().splitlines()]
    assert [line["file"] for line in lines] == ["0.png", "1.png", "2.png"]
    assert all(set(line) == {"file", "Prediction", "Score"} for line in lines)
    assert "Scored 3 files; 1 could not be read." in result.stdout
    assert "outputs/unreadable.jsonl" in result.stdout


def test_a_run_past_its_error_threshold_fails_in_one_line_and_writes_no_output(
    project: Path,
) -> None:
    result = modelyard(
        "batch-score", "--model", "pets", "--data", "images", "--output", "preds.jsonl",
        "--error-threshold", "0", cwd=project, check=False,
    )  # fmt: skip
    line = one_line_error(result)
    assert "error threshold exceeded: 1 files could not be scored" in line
    assert not (project / "preds.jsonl").exists()


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"--model": "nobody@champion"}, "nobody"),
        ({"--model": "pets:9"}, "pets"),
        ({"--data": "missing"}, "is not a folder"),
        ({"--data": "empty"}, "holds no files"),
        ({"--output": "missing/preds.jsonl"}, "does not exist"),
        ({"--error-threshold": "many"}, "--error-threshold"),
        ({"--compute": "nowhere"}, "nowhere"),
        ({"--no-wait": None}, "--no-wait"),
    ],
)
def test_bad_input_is_one_line_and_starts_no_run(
    refusing: Path, changed: dict[str, str | None], expected: str
) -> None:
    (refusing / "empty").mkdir(exist_ok=True)
    options = {"--model": "pets", "--data": "images", "--output": "preds.jsonl", **changed}
    arguments = [item for key, value in options.items() for item in (key, value) if item]
    result = modelyard("batch-score", *arguments, cwd=refusing, check=False)
    assert expected in one_line_error(result)
    ws = open_workspace(refusing.parent / "ws")
    try:
        assert ws.store.list_runs("batch-score") == []
    finally:
        ws.close()
