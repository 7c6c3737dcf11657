"""The command line itself: version, help that keeps option names whole, and mistyped options
answered in one line with a suggestion, never passed on to a script."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli.commands import modelyard
from modelyard.vision.config import BACKBONE_NAMES


def test_version(tmp_path: Path) -> None:
    result = modelyard("--version", cwd=tmp_path)
    assert re.fullmatch(r"modelyard \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


def test_help_at_80_columns_keeps_option_names_whole_and_lists_backbones(tmp_path: Path) -> None:
    shown = modelyard("train", "image-classification", "--help", cwd=tmp_path, columns=80).stdout
    for option in (
        "--early-stopping-patience",
        "--early-stopping-min-delta",
        "--validation-fraction",
    ):
        assert option in shown, shown
    assert "…" not in shown
    words = " ".join(shown.split())  # the help text may wrap between words
    for backbone in BACKBONE_NAMES:
        assert backbone in words


def test_a_mistyped_option_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    result = modelyard("run", "list", "--experment", "x", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: No such option: --experment: did you mean --experiment?"
        " (see `modelyard run list --help`)"
    ]


def test_a_mistyped_command_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    result = modelyard("rn", "list", cwd=tmp_path, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No such command 'rn'" in lines[0] and "'run'" in lines[0]


def test_job_submit_option_typos_never_reach_the_script(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("print('ran')\n")
    modelyard("workspace", "create", "typo-ws", "--path", str(tmp_path / "ws"), cwd=project)

    typo = modelyard(
        "job", "submit", "-e", "t", "--script", "train.py", "--strem", cwd=project, check=False
    )
    assert typo.returncode == 2
    assert "No such option: --strem: did you mean --stream?" in typo.stderr
    missing = modelyard(
        "job", "submit", "--experment", "t", "--script", "train.py", cwd=project, check=False
    )
    assert "No such option: --experment: did you mean --experiment?" in missing.stderr
    assert "Missing option" not in missing.stderr
    stray = modelyard(
        "job", "submit", "-e", "t", "--script", "train.py", "3", cwd=project, check=False
    )
    assert stray.returncode == 2 and "the script's arguments go after `--`" in stray.stderr
    assert json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout) == []

    modelyard(
        "job", "submit", "-e", "t", "--script", "train.py", "--stream", "--", "--strem", "-x",
        cwd=project,
    )  # fmt: skip
    (run,) = json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout)
    assert run["source"]["arguments"] == ["--strem", "-x"]  # after `--`: the script's own


def test_deleting_an_unknown_name_asks_nothing(tmp_path: Path) -> None:
    modelyard("workspace", "create", "del-ws", "--path", str(tmp_path / "ws"), cwd=tmp_path)
    result = modelyard("experiment", "delete", "nosuch", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "experiment 'nosuch' not found" in result.stderr
    assert "Delete experiment" not in result.stdout + result.stderr
    nowhere = modelyard("workspace", "delete", "no-such-ws", cwd=tmp_path, check=False)
    assert nowhere.returncode == 1 and "workspace 'no-such-ws' not found" in nowhere.stderr
    assert "Delete workspace" not in nowhere.stdout + nowhere.stderr


def test_command_summaries_are_whole_at_80_columns(tmp_path: Path) -> None:
    for noun in ([], ["run"], ["token"], ["workspace"]):
        shown = modelyard(*noun, "--help", cwd=tmp_path, columns=80).stdout
        commands = shown[shown.index("Commands:") :]
        assert "..." not in commands, shown
    listing = " ".join(modelyard("run", "--help", cwd=tmp_path, columns=80).stdout.split())
    assert "latest metrics and artifacts." in listing
