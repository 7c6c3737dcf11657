"""`modelyard component …` as a user types it: real subprocesses, a real workspace on disk,
one-line refusals, a pipeline file naming a registered component run with `job create`, and
the same commands against a real server (`-w URL`)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.commands import modelyard
from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

COMPONENT = """
name: hello
display_name: Hello
inputs:
  who: {type: string, default: world}
outputs:
  said: {type: uri_folder}
code: ./src
command: python hello.py --who ${{inputs.who}} --out ${{outputs.said}}
"""

HELLO = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--who"); parser.add_argument("--out")
options = parser.parse_args()
pathlib.Path(options.out, "said.txt").write_text(f"hello {options.who}")
print("said hello to", options.who)
"""

PIPELINE = """
type: pipeline
experiment_name: greetings
jobs:
  greet:
    component: azureml:hello@latest
    inputs: {who: components}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "hello.py").write_text(textwrap.dedent(HELLO))
    (folder / "hello.yml").write_text(textwrap.dedent(COMPONENT))
    (folder / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
    modelyard("workspace", "create", "comp-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_create_list_show_archive_restore(project: Path) -> None:
    first = _json(project, "component", "create", "-f", "hello.yml")
    assert (first["reference"], first["created"]) == ("azureml:hello:1", True)
    said = modelyard("component", "create", "-f", "hello.yml", cwd=project).stdout
    assert "Unchanged: azureml:hello:1 already holds this content" in said
    (project / "src" / "hello.py").write_text(textwrap.dedent(HELLO) + "# v2\n")
    said = modelyard("component", "create", "-f", "hello.yml", cwd=project).stdout
    assert "Registered azureml:hello:2." in said

    listed = _json(project, "component", "list")
    assert [(c["name"], c["latest_version"], c["version_count"]) for c in listed] == [
        ("hello", 2, 2)
    ]
    shown = _json(project, "component", "show", "hello:1")
    assert shown["inputs"] == {"who": {"type": "string", "default": "world"}}
    table = modelyard("component", "show", "azureml:hello@latest", cwd=project).stdout
    assert "azureml:hello:2" in table and "who (string)" in table

    said = modelyard("component", "archive", "hello:2", cwd=project).stdout
    assert "Archived azureml:hello:2." in said
    assert _json(project, "component", "show", "hello")["version"] == 1
    versions = _json(project, "component", "list", "hello", "--include-archived")
    assert [(v["version"], v["archived"]) for v in versions] == [(2, True), (1, False)]
    modelyard("component", "restore", "hello:2", cwd=project)
    assert _json(project, "component", "show", "hello@latest")["version"] == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("type: string", "type: text"), "input 'who' has type 'text': use one of uri_folder"),
        (("${{inputs.who}}", "${{inputs.whom}}"), "${{inputs.whom}}, which it does not declare"),
        (("code: ./src", "code: ./source"), "code './source' is not a folder"),
        (("name: hello", "name: hello\ntype: sweep"), "only command components are registered"),
    ],
)
def test_a_bad_component_file_is_one_line(
    project: Path, change: tuple[str, str], words: str
) -> None:
    (project / "hello.yml").write_text(textwrap.dedent(COMPONENT).replace(*change))
    result = modelyard("component", "create", "-f", "hello.yml", cwd=project, check=False)
    line = _one_line_error(result)
    assert words in line and "hello.yml" in line


def test_an_unknown_component_is_one_line_naming_the_closest(project: Path) -> None:
    modelyard("component", "create", "-f", "hello.yml", cwd=project)
    missing = modelyard("component", "show", "helo:1", cwd=project, check=False)
    assert "component 'helo' is not registered: did you mean 'hello'?" in _one_line_error(missing)
    missing = modelyard("component", "show", "hello:3", cwd=project, check=False)
    assert "component 'hello' has no version 3: its versions are 1" in _one_line_error(missing)
    (project / "pipeline.yml").write_text(
        textwrap.dedent(PIPELINE).replace("hello@latest", "helo@latest")
    )
    refused = modelyard("job", "create", "-f", "pipeline.yml", cwd=project, check=False)
    line = _one_line_error(refused)
    assert "pipeline.yml" in line and "step 'greet' component" in line and "'hello'" in line


def test_a_pipeline_step_runs_the_registered_component(project: Path) -> None:
    modelyard("component", "create", "-f", "hello.yml", cwd=project)
    streamed = modelyard("job", "create", "-f", "pipeline.yml", "--stream", cwd=project).stdout
    assert "greet" in streamed and "Completed" in streamed and "first run" in streamed


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, OpenWorkspace]]:
    ws = create_workspace("served-comp", path=tmp_path / "served")
    token = auth.ensure_admin(ws)
    assert token is not None
    monkeypatch.setenv("MODELYARD_TOKEN", token)
    try:
        with serve(create_app(ws)) as url:
            yield url, ws
    finally:
        ws.close()


def test_the_same_commands_work_against_a_server(
    served: tuple[str, OpenWorkspace], project: Path
) -> None:
    url, ws = served
    created = _json(project, "component", "create", "-f", "hello.yml", "-w", url)
    assert created["created"] and created["created_by"] == "admin"
    again = _json(project, "component", "create", "-f", "hello.yml", "-w", url)
    assert again["created"] is False and again["version"] == 1
    [version] = ws.component_store.list_component_versions("hello")  # the server's side
    assert version.reference == "azureml:hello:1"
    shown = _json(project, "component", "show", "hello@latest", "-w", url)
    assert shown["content_hash"] == version.content_hash
    missing = modelyard("component", "show", "hello:7", "-w", url, cwd=project, check=False)
    assert "has no version 7" in _one_line_error(missing)
