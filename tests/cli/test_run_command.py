"""`modelyard run …` as a new user reads and types it: runs named from the table (a short id, a
display name), shown with duration and artifacts, and their files downloaded."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from cli.commands import modelyard

SCRIPT = """
import os
from modelyard import Run
run = Run.get_context()
run.log("accuracy", 0.7047549999999999)
run.log("best_epoch", 21.0)
os.makedirs("outputs/eval", exist_ok=True)
open("outputs/model.txt", "w").write("weights")
open("outputs/eval/report.json", "w").write("{}")
print("trained")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    modelyard("workspace", "create", "run-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    for experiment in ("flowers", "flowers", "digits"):
        modelyard("job", "submit", "-e", experiment, "--script", "train.py", "--stream", cwd=folder)
    return folder


def _runs(project: Path) -> list[dict[str, object]]:
    return list(json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout))


def test_run_list_shows_short_ids_that_name_the_run_at_80_columns(project: Path) -> None:
    table = modelyard("run", "list", cwd=project, columns=80).stdout
    for run in _runs(project):
        short = str(run["id"])[:8]
        assert re.search(rf"│ {short}\s+│", table), table  # whole, not cut to "b523b72f…"
        shown = json.loads(modelyard("run", "show", short, "-o", "json", cwd=project).stdout)
        assert shown["id"] == run["id"]
    assert "…" not in table


def test_run_show_by_display_name_with_duration_metrics_and_artifacts(project: Path) -> None:
    shown = json.loads(modelyard("run", "show", "flowers_2", "-o", "json", cwd=project).stdout)
    assert shown["display_name"] == "flowers_2" and shown["experiment"] == "flowers"
    assert shown["metrics"] == {"accuracy": 0.7047549999999999, "best_epoch": 21.0}  # whole
    assert shown["duration_s"] > 0
    paths = [artifact["path"] for artifact in shown["artifacts"]]
    assert "outputs/model.txt" in paths and "logs/std_log.txt" in paths

    table = modelyard("run", "show", "digits_1", "-e", "digits", cwd=project, columns=80).stdout
    assert re.search(r"│ accuracy\s+│ 0\.7048\s+│", table), table  # rounded for people
    assert re.search(r"│ best_epoch\s+│ 21\s+│", table), table
    assert re.search(r"│ duration\s+│ \d+\.\ds\s+│", table), table
    assert "Artifacts" in table and "outputs/eval/report.json" in table


def test_an_ambiguous_or_unknown_run_is_one_line_naming_the_candidates(project: Path) -> None:
    ids = {str(run["display_name"]): str(run["id"]) for run in _runs(project)}
    # A second "flowers_1", named so by its user, in another experiment.
    modelyard(
        "job", "submit", "-e", "tulips", "--script", "train.py", "--display-name", "flowers_1",
        "--stream", cwd=project,
    )  # fmt: skip
    result = modelyard("run", "show", "flowers_1", cwd=project, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'flowers_1' is ambiguous" in lines[0], result.stderr
    assert f"{ids['flowers_1'][:8]} (flowers/flowers_1)" in lines[0]
    assert "(tulips/flowers_1)" in lines[0]
    within = modelyard("run", "show", "flowers_1", "-e", "flowers", "-o", "json", cwd=project)
    assert json.loads(within.stdout)["id"] == ids["flowers_1"]

    short = modelyard("run", "show", ids["digits_1"][:3], cwd=project, check=False)
    assert short.returncode == 1 and "needs 4 characters or more" in short.stderr


def test_logs_and_cancel_take_the_same_names(project: Path) -> None:
    assert "trained" in modelyard("run", "logs", "digits_1", cwd=project).stdout
    result = modelyard("run", "cancel", "flowers_1", "-e", "flowers", cwd=project)
    assert "Completed" in result.stdout  # an ended run keeps its end


def test_artifacts_list_and_download(project: Path, tmp_path: Path) -> None:
    listed = json.loads(
        modelyard("run", "artifacts", "list", "flowers_1", "-o", "json", cwd=project).stdout
    )
    assert {"path": "outputs/model.txt", "size": 7} in listed
    only = modelyard(
        "run", "artifacts", "list", "flowers_1", "--prefix", "outputs/eval", cwd=project
    )
    assert "outputs/eval/report.json" in only.stdout and "model.txt" not in only.stdout

    folder = tmp_path / "downloaded"
    result = modelyard(
        "run", "artifacts", "download", "flowers_1", "outputs", "--to", str(folder), cwd=project
    )
    assert (folder / "model.txt").read_text() == "weights"
    assert (folder / "eval" / "report.json").read_text() == "{}"
    assert str(folder / "model.txt") in result.stdout
    file = tmp_path / "model-copy.txt"
    modelyard(
        "run", "artifacts", "download", "flowers_1", "outputs/model.txt", "--to", str(file),
        cwd=project,
    )  # fmt: skip
    assert file.read_text() == "weights"
    missing = modelyard(
        "run", "artifacts", "download", "flowers_1", "outputs/nope", cwd=project, check=False
    )
    assert missing.returncode == 1 and "artifact 'outputs/nope' not found" in missing.stderr
