"""`modelyard pipeline draft import | list | show | export | delete` as a user types them: a
pipeline file imported and exported again is the same bytes (comments, CRLF and all), named by
its display_name unless --name says otherwise; a second import of a name, or a file that is no
mapping, is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.commands import modelyard
from modelyard.services.pipelines import drafts
from modelyard.services.workspaces import open_workspace
from pipeline_projects import write_project

TEXT = (
    "# drawn by hand\r\ntype: pipeline\r\nexperiment_name: pipe\r\ndisplay_name: etl\r\n"
    "jobs:\r\n  prep:   {command: python prep.py}   # a comment kept\r\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write_project(folder)
    modelyard("workspace", "create", "draft-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def refused(project: Path, *arguments: str) -> str:
    result = modelyard(*arguments, cwd=project, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_import_then_export_gives_the_same_bytes(project: Path) -> None:
    (project / "drawn.yml").write_bytes(TEXT.encode())
    imported = modelyard(
        "pipeline", "draft", "import", "-f", "drawn.yml", "-o", "json", cwd=project
    )
    draft = json.loads(imported.stdout)
    assert (draft["name"], draft["revision"], draft["definition"]) == ("etl", 1, TEXT)
    modelyard("pipeline", "draft", "export", "etl", "-o", "out/back.yml", cwd=project)
    assert (project / "out" / "back.yml").read_bytes() == TEXT.encode()

    # The project's own pipeline file, under another name: it would run, so no problem.
    modelyard(
        "pipeline", "draft", "import", "-f", "pipeline.yml", "--name", "cli-made", cwd=project
    )
    shown = modelyard("pipeline", "draft", "show", "cli-made", cwd=project).stdout
    assert "none: it would run" in shown and "experiment_name: pipe" in shown
    modelyard("pipeline", "draft", "export", "cli-made", "-o", "again.yml", cwd=project)
    assert (project / "again.yml").read_bytes() == (project / "pipeline.yml").read_bytes()

    listed = json.loads(modelyard("pipeline", "draft", "list", "-o", "json", cwd=project).stdout)
    assert [(d["name"], d["revision"]) for d in listed] == [("cli-made", 1), ("etl", 1)]
    modelyard("pipeline", "draft", "delete", "etl", cwd=project)
    assert "pipeline draft 'etl' not found" in refused(project, "pipeline", "draft", "show", "etl")


def test_a_second_import_or_a_file_that_is_no_mapping_is_refused_in_one_line(
    project: Path,
) -> None:
    modelyard("pipeline", "draft", "import", "-f", "pipeline.yml", cwd=project)
    said = refused(project, "pipeline", "draft", "import", "-f", "pipeline.yml")
    assert "pipeline draft 'etl' already exists: import with --replace" in said
    (project / "list.yml").write_text("- 1\n")
    said = refused(project, "pipeline", "draft", "import", "-f", "list.yml")
    assert "the definition is list, not a mapping" in said
    said = refused(project, "pipeline", "draft", "import", "-f", "pipeline.yml", "--name", "a b")
    assert "invalid pipeline draft name 'a b'" in said


def test_an_import_with_replace_saves_over_the_draft_keeping_its_layout(project: Path) -> None:
    (project / "drawn.yml").write_bytes(TEXT.encode())
    modelyard("pipeline", "draft", "import", "-f", "drawn.yml", cwd=project)
    ws = open_workspace(project.parent / "ws")
    drafts.save_draft(ws, "etl", TEXT, layout={"step:prep": {"x": 10, "y": 20}}, revision=1)

    edited = TEXT.replace("python prep.py", "python prep.py --fast")
    (project / "drawn.yml").write_bytes(edited.encode())
    replaced = modelyard(
        "pipeline", "draft", "import", "-f", "drawn.yml", "--replace", "-o", "json", cwd=project
    )
    draft = json.loads(replaced.stdout)
    assert (draft["revision"], draft["definition"]) == (3, edited)
    assert draft["layout"] == {"step:prep": {"x": 10, "y": 20}}

    # --replace on a name no draft has creates it.
    fresh = modelyard(
        "pipeline",
        "draft",
        "import",
        "-f",
        "drawn.yml",
        "--name",
        "new-one",
        "--replace",
        "-o",
        "json",
        cwd=project,
    )
    assert json.loads(fresh.stdout)["revision"] == 1
