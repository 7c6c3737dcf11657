"""The `modelyard` command as a user types it: real subprocesses, real workspaces."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cli.commands import modelyard

SCRIPT = """
import sys
from modelyard import Run
run = Run.get_context()
run.log_params({"epochs": sys.argv[1]})
run.log("accuracy", 0.5)
run.log("accuracy", 0.9)
print("hello from the job")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    modelyard("workspace", "create", "cli-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def test_workspace_create_show_list_and_discovery_from_a_subfolder(
    project: Path, tmp_path: Path
) -> None:
    assert (project / ".modelyard" / "config.json").is_file()
    nested = project / "a" / "b"
    nested.mkdir(parents=True)
    shown = json.loads(modelyard("workspace", "show", "-o", "json", cwd=nested).stdout)
    assert shown["name"] == "cli-ws" and shown["path"] == str(tmp_path / "ws")
    assert shown["store_uri"].startswith("sqlite:///")
    listed = json.loads(modelyard("workspace", "list", "-o", "json", cwd=tmp_path).stdout)
    assert [w["name"] for w in listed] == ["cli-ws"]


@pytest.mark.parametrize("name", ["ab", "has_underscore", "x" * 34])
def test_bad_workspace_name_is_one_clear_line_and_creates_nothing(
    tmp_path: Path, name: str
) -> None:
    result = modelyard(
        "workspace", "create", name, "--path", str(tmp_path / "w"), cwd=tmp_path, check=False
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert repr(name) in lines[0] and "3–33 letters, digits or hyphens" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "w").exists() and not (tmp_path / ".modelyard").exists()


def test_job_submit_streams_and_reports(project: Path) -> None:
    result = modelyard(
        "job",
        "submit",
        "--experiment",
        "cli-exp",
        "--script",
        "train.py",
        "--stream",
        "--",
        "3",
        cwd=project,
    )
    assert "hello from the job" in result.stdout
    assert "Completed" in result.stdout
    runs = json.loads(modelyard("run", "list", "-e", "cli-exp", "-o", "json", cwd=project).stdout)
    assert len(runs) == 1 and runs[0]["status"] == "Completed"
    shown = json.loads(modelyard("run", "show", runs[0]["id"], "-o", "json", cwd=project).stdout)
    assert shown["params"] == {"epochs": "3"}
    assert shown["metrics"] == {"accuracy": 0.9}
    assert shown["source"]["arguments"] == ["3"]
    logs = modelyard("run", "logs", runs[0]["id"], cwd=project).stdout
    assert "hello from the job" in logs
    experiments = json.loads(modelyard("experiment", "list", "-o", "json", cwd=project).stdout)
    assert [(e["name"], e["run_count"]) for e in experiments] == [("cli-exp", 1)]


def test_job_create_from_yaml(project: Path) -> None:
    (project / "job.yml").write_text(
        "experiment_name: yaml-exp\ncode: .\ncommand: python train.py 7\ncompute: local\n"
    )
    result = modelyard("job", "create", "-f", "job.yml", "--stream", cwd=project)
    assert "hello from the job" in result.stdout
    runs = json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout)
    assert runs[0]["experiment"] == "yaml-exp" and runs[0]["status"] == "Completed"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("experiment_name: e\ncommand: python train.py\nbogus: 1\n", "unknown field 'bogus'"),
        ("command: python train.py\n", "needs 'experiment_name'"),
        ("experiment_name: e\ncommand: [unclosed\n", "not valid YAML"),
        ("experiment_name: e\ncommand: bash run.sh\n", "write it as 'python SCRIPT ARGS…'"),
    ],
)
def test_bad_job_file_is_one_clear_line(project: Path, content: str, expected: str) -> None:
    (project / "bad.yml").write_text(content)
    result = modelyard("job", "create", "-f", "bad.yml", cwd=project, check=False)
    assert result.returncode == 1
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_unknown_run_and_experiment_are_clear_errors(project: Path) -> None:
    result = modelyard("run", "show", "nope", cwd=project, check=False)
    assert result.returncode == 1 and "run 'nope' not found" in result.stderr
    result = modelyard("experiment", "delete", "nope", "--yes", cwd=project, check=False)
    assert result.returncode == 1 and "experiment 'nope' not found" in result.stderr


def test_no_workspace_anywhere_says_how_to_make_one(tmp_path: Path) -> None:
    result = modelyard("run", "list", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "modelyard workspace create" in result.stderr and "Traceback" not in result.stderr


def test_experiment_delete_frees_the_name(project: Path) -> None:
    modelyard(
        "job", "submit", "-e", "gone", "--script", "train.py", "--stream", "--", "1", cwd=project
    )
    modelyard("experiment", "delete", "gone", "--yes", cwd=project)
    assert json.loads(modelyard("experiment", "list", "-o", "json", cwd=project).stdout) == []
    modelyard(
        "job", "submit", "-e", "gone", "--script", "train.py", "--stream", "--", "1", cwd=project
    )
    runs = json.loads(modelyard("run", "list", "-e", "gone", "-o", "json", cwd=project).stdout)
    assert [r["number"] for r in runs] == [1]


def test_workspace_delete(project: Path, tmp_path: Path) -> None:
    modelyard("workspace", "delete", "cli-ws", "--yes", cwd=tmp_path)
    assert not (tmp_path / "ws").exists()
    assert json.loads(modelyard("workspace", "list", "-o", "json", cwd=tmp_path).stdout) == []


def test_console_script_is_installed(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "modelyard"
    result = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0
    for noun in ("workspace", "experiment", "run", "job", "db"):
        assert noun in result.stdout


def test_run_cancel(project: Path) -> None:
    (project / "slow.py").write_text("import time\nprint('working', flush=True)\ntime.sleep(600)\n")
    submitted = modelyard("job", "submit", "-e", "slow", "--script", "slow.py", cwd=project)
    assert "modelyard run logs" in submitted.stdout  # Says how to follow the run.
    run_id = json.loads(modelyard("run", "list", "-o", "json", cwd=project).stdout)[0]["id"]
    result = modelyard("run", "cancel", run_id, cwd=project)
    assert "Canceled" in result.stdout
    shown = json.loads(modelyard("run", "show", run_id, "-o", "json", cwd=project).stdout)
    assert shown["status"] == "Canceled"
