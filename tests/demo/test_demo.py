"""`make demo` end to end: the command the Makefile runs, on a fresh folder and a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_make_demo_runs_the_demo_module() -> None:
    planned = subprocess.run(
        ["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert ".venv/bin/python -m modelyard.demo" in planned


def test_demo_submits_a_job_and_prints_status_params_and_metrics(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelyard.demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "epoch 8/8" in out  # The job's log, streamed.
    assert "Completed" in out
    for name in ("learning_rate", "epochs", "accuracy", "loss", "outputs/model.txt"):
        assert name in out
    assert (tmp_path / "demo-workspace" / "config.json").is_file()
    again = subprocess.run(
        [sys.executable, "-m", "modelyard.demo"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr  # A second demo reuses the workspace.
