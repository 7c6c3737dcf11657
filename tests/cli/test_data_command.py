"""`modelyard data …` as a user types it: real subprocesses, a real workspace on disk, the
one-line refusals, and the same commands (and a job reading a version) against a real
server (`-w URL`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.commands import home_of_its_own, modelyard
from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve


def _files(folder: Path, marker: str = "") -> Path:
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text("alpha" + marker)
    (folder / "sub" / "b.txt").write_text("beta")
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    _files(folder / "flowers")
    modelyard("workspace", "create", "data-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_create_list_show_download_archive(project: Path) -> None:
    first = _json(project, "data", "create", "flowers", "--path", "flowers", "-d", "first")
    assert (first["reference"], first["created"], first["type"]) == (
        "data:flowers:1",
        True,
        "uri_folder",
    )
    said = modelyard("data", "create", "flowers", "--path", "flowers", cwd=project).stdout
    assert "Unchanged: data:flowers:1 already holds this content" in said
    _files(project / "flowers", marker="!")
    said = modelyard("data", "create", "flowers", "--path", "flowers", cwd=project).stdout
    assert "Created data:flowers:2" in said and "after version 1" in said

    assert [(a["name"], a["latest_version"]) for a in _json(project, "data", "list")] == [
        ("flowers", 2)
    ]
    assert [v["version"] for v in _json(project, "data", "list", "flowers")] == [2, 1]
    shown = _json(project, "data", "show", "data:flowers:1", "--files")
    assert shown["version"]["description"] == "first" and shown["runs"] == []
    assert [f["path"] for f in shown["files"]] == ["a.txt", "sub/b.txt"]
    table = modelyard("data", "show", "flowers", cwd=project).stdout
    assert "data:flowers:2" in table and "parent version" in table

    modelyard("data", "download", "flowers:1", "--output", "out", cwd=project)
    assert (project / "out" / "a.txt").read_text() == "alpha"
    archived = _json(project, "data", "archive", "flowers:2")
    assert archived["archived"] is True
    assert _json(project, "data", "show", "flowers@latest")["version"]["version"] == 1
    assert _json(project, "data", "restore", "flowers:2")["archived"] is False


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project whose workspace holds data:flowers:1, for the refusals below: each changes
    nothing in it, so they share it."""
    with home_of_its_own(tmp_path_factory):
        folder = tmp_path_factory.mktemp("refusing") / "project"
        _files(folder / "flowers")
        modelyard("workspace", "create", "data-ws", "--path", str(folder.parent / "ws"), cwd=folder)
        modelyard("data", "create", "flowers", "--path", "flowers", cwd=folder)
    return folder


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["data", "show", "nope"], "data asset 'nope' not found"),
        (["data", "show", "data:flowers:9"], "has no version 9: its versions are 1"),
        (["data", "show", "data:flowers@best"], "only @latest is known"),
        (["data", "show", "data:fl owers:1"], "invalid data asset name"),
        (["data", "create", "f", "--path", "missing"], "data path 'missing' not found"),
        (["data", "create", "bad:name", "--path", "flowers"], "invalid data asset name"),
        (["data", "create", "f", "--path", "flowers", "--type", "zip"], "is not one of"),
        (["data", "download", "flowers", "--output", "flowers"], "already exists"),
    ],
)
def test_bad_input_is_one_line(refusing: Path, arguments: list[str], words: str) -> None:
    result = modelyard(*arguments, cwd=refusing, check=False)
    assert words in _one_line_error(result)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, OpenWorkspace]]:
    ws = create_workspace("served-ws", path=tmp_path / "served")
    token = auth.ensure_admin(ws)
    assert token is not None
    monkeypatch.setenv("MODELYARD_TOKEN", token)
    try:
        with serve(create_app(ws)) as url:
            yield url, ws
    finally:
        ws.close()


JOB = """
experiment_name: remote-data
command: python read.py ${{inputs.training_data}}
inputs:
  training_data: {type: uri_folder, path: azureml:flowers@latest}
"""

READ = """
import os, sys
print("read:", open(os.path.join(sys.argv[1], "sub", "b.txt")).read())
"""


def test_the_same_commands_and_a_job_work_against_a_server(
    served: tuple[str, OpenWorkspace], tmp_path: Path
) -> None:
    url, ws = served
    folder = _files(tmp_path / "client" / "flowers")
    client = folder.parent
    created = _json(client, "data", "create", "flowers", "--path", "flowers", "-w", url)
    assert created["created"] and created["created_by"] == "admin"
    again = _json(client, "data", "create", "flowers", "--path", "flowers", "-w", url)
    assert again["created"] is False and again["version"] == 1
    assert ws.data_store.get_data_asset("flowers").latest_version == 1  # on the server's side
    modelyard("data", "download", "flowers", "--output", "got", "-w", url, cwd=client)
    assert (client / "got" / "sub" / "b.txt").read_text() == "beta"
    missing = modelyard("data", "show", "flowers:7", "-w", url, cwd=client, check=False)
    assert "has no version 7" in _one_line_error(missing)

    (client / "read.py").write_text(READ)
    (client / "job.yml").write_text(JOB)
    streamed = modelyard("job", "create", "-f", "job.yml", "--stream", "-w", url, cwd=client)
    assert "read: beta" in streamed.stdout
    (run,) = ws.store.list_runs("remote-data")
    shown = _json(client, "run", "show", run.id, "-w", url)
    assert [(i["input_name"], i["reference"]) for i in shown["inputs"]] == [
        ("training_data", "data:flowers:1")
    ]
    lineage = _json(client, "data", "show", "data:flowers:1", "-w", url)
    assert [r["run_id"] for r in lineage["runs"]] == [run.id]
