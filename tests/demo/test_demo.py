"""`make demo` end to end: the command the Makefile runs, on a fresh folder and a fresh home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.demo import run_demo
from modelyard.errors import InvalidValue

REPO = Path(__file__).resolve().parents[2]


def test_make_demo_runs_the_demo_module() -> None:
    planned = subprocess.run(
        ["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert ".venv/bin/python -m modelyard.demo" in planned


def _demo(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelyard.demo"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},
    )


def _result(out: str, name: str) -> float:
    found = re.search(rf"│ {name}\s+│ ([0-9.e+-]+)", out)
    assert found, f"{name} missing from:\n{out}"
    return float(found.group(1))


@pytest.mark.slow
def test_demo_trains_digits_offline_and_prints_metrics_outputs_and_a_prediction(
    tmp_path: Path,
) -> None:
    result = _demo(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "guardrails passed: 1797 usable images in 10 classes" in out  # the job's log
    assert "Completed" in out
    assert _result(out, "accuracy") > 0.6  # ten classes: chance is 0.1
    assert _result(out, "onnx_max_abs_diff") < 1e-3
    for name in ("bestModel.onnx", "bestModelMap.json", "MLModel.zip", "DigitsModel.ConsoleApp"):
        assert f"digits-model/{name}" in out
    assert re.search(r"Sample prediction for digits/7/\S+ \(label 7\): Prediction='\d'", out)
    project = tmp_path / "demo-workspace" / "digits-model"
    assert (project / "DigitsModel.Model" / "consume_model.py").is_file()
    assert f"modelyard server -w {tmp_path / 'demo-workspace'}" in out  # the next step

    again = _demo(tmp_path)  # the same workspace and data: every feature comes from the cache
    assert again.returncode == 0, again.stdout + again.stderr
    assert _result(again.stdout, "feature_cache_hits") == 1797
    assert "featurize: 1797/1797 images (from the cache)" in again.stdout
    assert "images/s" not in again.stdout and "featurize_images_per_s" not in again.stdout
    assert _result(again.stdout, "accuracy") == _result(out, "accuracy")  # seeded


def test_a_second_checkouts_demo_gets_a_workspace_of_its_own(tmp_path: Path) -> None:
    # Two clones on one machine share the registry of workspace names.
    first = run_demo._workspace(tmp_path / "clone-a" / "demo-workspace")
    second = run_demo._workspace(tmp_path / "clone-b" / "demo-workspace")
    assert first.name == "demo-workspace"
    assert second.name.startswith("demo-") and second.name != first.name
    assert second.path == tmp_path / "clone-b" / "demo-workspace"
    again = run_demo._workspace(tmp_path / "clone-b" / "demo-workspace")
    assert (again.name, again.path) == (second.name, second.path)  # a rerun reuses it


def test_a_known_error_is_one_line_with_the_message_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(folder: Path, per_class: int | None = None) -> None:
        raise InvalidValue(f"bad value [red]x[/] at {folder}")

    monkeypatch.setattr(run_demo, "run_demo", fail)
    assert run_demo.main(["--folder", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: bad value [red]x[/] at {tmp_path}" in err.replace("\n", "")
