"""`modelyard model …` as a user types it: real subprocesses, a real workspace on disk, and the
same commands against a real server (`-w URL`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.commands import home_of_its_own, modelyard
from modelyard.entities import RunStatus
from modelyard.server import create_app
from modelyard.services import auth, runs
from modelyard.services.workspaces import create_workspace
from server.serving import serve


def _create_project(folder: Path) -> Path:
    (folder / "model" / "sub").mkdir(parents=True)
    (folder / "model" / "weights.bin").write_bytes(b"weights")
    (folder / "model" / "sub" / "labels.txt").write_text("cat\ndog\n")
    modelyard("workspace", "create", "model-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals, flowers:1 registered: each changes nothing, so they
    share it."""
    with home_of_its_own(tmp_path_factory):
        folder = _create_project(tmp_path_factory.mktemp("refusing") / "project")
        register = ["model", "register", "model", "--name", "flowers", "--property", "p=1"]
        modelyard(*register, cwd=folder)
    return folder


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_register_list_show_alias_tag_download_delete(project: Path) -> None:
    first = _json(
        project, "model", "register", "model", "--name", "flowers",
        "--tag", "stage=dev", "--property", "auc=0.9", "--description", "the first",
    )  # fmt: skip
    assert (first["reference"], first["tags"], first["properties"]) == (
        "flowers:1",
        {"stage": "dev"},
        {"auc": "0.9"},
    )
    assert [f["path"] for f in first["files"]] == ["sub/labels.txt", "weights.bin"]
    second = _json(project, "model", "register", "model/weights.bin", "--name", "flowers")
    assert second["version"] == 2

    listed = _json(project, "model", "list")
    assert [(m["name"], m["latest_version"]) for m in listed] == [("flowers", 2)]
    assert [v["version"] for v in _json(project, "model", "list", "flowers")] == [2, 1]
    table = modelyard("model", "show", "flowers:1", cwd=project).stdout
    assert "the first" in table and "sub/labels.txt" in table and "auc" in table

    _json(project, "model", "alias", "set", "flowers", "champion", "1")
    assert _json(project, "model", "show", "flowers@champion")["version"] == 1
    tagged = _json(project, "model", "tag", "set", "flowers@champion", "owner=ana")
    assert tagged["tags"] == {"owner": "ana", "stage": "dev"}
    assert _json(project, "model", "tag", "delete", "flowers:1", "stage")["tags"] == {
        "owner": "ana"
    }

    modelyard("model", "download", "flowers@champion", "--to", "out", cwd=project)
    assert (project / "out" / "sub" / "labels.txt").read_text() == "cat\ndog\n"
    again = modelyard("model", "download", "flowers:1", "--to", "out", cwd=project, check=False)
    assert "already exists" in _one_line_error(again)

    deleted = _json(project, "model", "delete", "flowers:1", "--yes")
    assert deleted == {"deleted": ["flowers:1"]}
    assert _json(project, "model", "list")[0]["aliases"] == {}
    assert _json(project, "model", "delete", "flowers", "--all-versions", "--yes") == {
        "deleted": ["flowers:2"]
    }
    assert _json(project, "model", "list") == []


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["model", "show", "nope"], "model 'nope' not found"),
        (["model", "show", "flowers:9"], "has no version 9: its versions are 1"),
        (["model", "show", "flowers@gone"], "has no alias 'gone'"),
        (["model", "register", "model", "--name", "bad name"], "invalid model name 'bad name'"),
        (["model", "register", "model", "--name", "f", "--tag", "novalue"], "is not KEY=VALUE"),
        (["model", "register", "missing", "--name", "f"], "model path 'missing' not found"),
        (["model", "alias", "set", "flowers", "latest", "1"], "invalid alias 'latest'"),
        (["model", "delete", "flowers", "--yes"], "names no version"),
        (["model", "tag", "delete", "flowers", "zzz"], "has no tag 'zzz'"),
    ],
)
def test_bad_input_is_one_line(refusing: Path, arguments: list[str], words: str) -> None:
    result = modelyard(*arguments, cwd=refusing, check=False)
    assert words in _one_line_error(result)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    ws = create_workspace("served-ws", path=tmp_path / "served")
    token = auth.ensure_admin(ws)
    assert token is not None
    monkeypatch.setenv("MODELYARD_TOKEN", token)
    try:
        with serve(create_app(ws)) as url:
            yield url, ws
    finally:
        ws.close()


def test_the_same_commands_work_against_a_server(served: tuple[str, Any], tmp_path: Path) -> None:
    url, ws = served
    run = runs.start_interactive_run(ws, "exp", user="admin")
    ws.artifacts.put_bytes(run.id, "outputs/model.onnx", b"onnx bytes")
    runs.end_run(ws, run.id, RunStatus.COMPLETED)
    folder = tmp_path / "client"
    folder.mkdir()
    (folder / "m.bin").write_bytes(b"local")

    local = _json(folder, "model", "register", "m.bin", "--name", "m", "-w", url)
    from_run = _json(folder, "model", "register", "--run", run.id, "--name", "m", "-w", url)
    assert (local["version"], from_run["version"]) == (1, 2)
    assert from_run["lineage"]["run_id"] == run.id and from_run["lineage"]["experiment"] == "exp"
    _json(folder, "model", "alias", "set", "m", "prod", "2", "-w", url)
    modelyard("model", "download", "m@prod", "--to", "got", "-w", url, cwd=folder)
    assert (folder / "got" / "model.onnx").read_bytes() == b"onnx bytes"
    refused = modelyard("model", "add", "-w", url, cwd=folder, check=False)
    assert refused.returncode == 2
    missing = modelyard("model", "show", "m:7", "-w", url, cwd=folder, check=False)
    assert "has no version 7" in _one_line_error(missing)
