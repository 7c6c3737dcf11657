"""Pipeline drafts on real SQLite and PostgreSQL: the text kept byte for byte, each save one
revision on, a save over an older revision refused with both revisions named, the layout kept
or replaced, a draft that cannot run yet saved with its problem, and import → export giving
the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists, Conflict, InvalidName, InvalidValue, NotFound
from modelyard.services.pipelines import drafts
from modelyard.services.workspaces import OpenWorkspace

# CRLF, a comment, a tab, unicode and no final newline: all kept as they are.
TEXT = (
    "type: pipeline  # drawn\r\nexperiment_name: e\ndisplay_name: nightly\n"
    "jobs: {}  #\ta tab\n# é ✓"
)
LAYOUT = {"prep": {"x": 10, "y": -2.5}, "train": {"x": 200.25, "y": 0}}


def test_a_draft_keeps_its_text_exactly_and_moves_one_revision_per_save(
    workspace: OpenWorkspace,
) -> None:
    created = drafts.save_draft(workspace, "nightly", TEXT, layout=LAYOUT, user="ana")
    assert created.draft.definition == TEXT and created.draft.revision == 1
    assert created.draft.summary.created_by == "ana"
    # Saved although it cannot run: its problem says why.
    assert created.problem is not None and "no steps" in created.problem.message

    saved = drafts.save_draft(workspace, "nightly", TEXT + "\n", revision=1, user="rita")
    assert (saved.draft.revision, saved.draft.summary.updated_by) == (2, "rita")
    assert saved.draft.layout == LAYOUT  # no layout sent: the saved one stays
    moved = {"prep": {"x": 0, "y": 0}}
    assert (
        drafts.save_draft(workspace, "nightly", TEXT, layout=moved, revision=2).draft.layout
        == moved
    )

    read = drafts.get_draft(workspace, "nightly")
    assert (read.draft.definition, read.draft.revision) == (TEXT, 3)
    assert [d.name for d in drafts.list_drafts(workspace)] == ["nightly"]


def test_a_save_over_an_older_revision_or_a_second_create_is_refused(
    workspace: OpenWorkspace,
) -> None:
    drafts.save_draft(workspace, "d", TEXT)
    drafts.save_draft(workspace, "d", TEXT, revision=1)
    with pytest.raises(Conflict, match=r"at revision 2, not revision 1 .*reload the draft"):
        drafts.save_draft(workspace, "d", "type: pipeline\n", revision=1)
    with pytest.raises(AlreadyExists, match=r"'d' already exists \(revision 2\)"):
        drafts.save_draft(workspace, "d", TEXT)
    assert drafts.get_draft(workspace, "d").draft.definition == TEXT
    with pytest.raises(NotFound, match="pipeline draft 'other' not found"):
        drafts.save_draft(workspace, "other", TEXT, revision=1)


@pytest.mark.parametrize(
    ("name", "text", "layout", "words"),
    [
        ("bad name", TEXT, None, "invalid pipeline draft name 'bad name'"),
        ("d", "- a list\n", None, "the definition is list, not a mapping"),
        ("d", "jobs: [\n", None, "is not valid YAML at line 2"),
        ("d", TEXT, {"a": {"x": 1}}, "layout of node 'a'"),
        ("d", TEXT, {"a": {"x": float("nan"), "y": 0}}, "layout of node 'a'"),
        ("d", "a: '\x00'\n", None, "NUL character"),
    ],
)
def test_a_bad_draft_is_refused_in_one_line_and_nothing_saved(
    workspace: OpenWorkspace,
    name: str,
    text: str,
    layout: dict[str, dict[str, float]] | None,
    words: str,
) -> None:
    with pytest.raises(InvalidValue) as refused:
        drafts.save_draft(workspace, name, text, layout=layout)
    assert words in refused.value.message and "\n" not in refused.value.message
    assert drafts.list_drafts(workspace) == []


def test_import_then_export_gives_the_same_bytes(workspace: OpenWorkspace, tmp_path: Path) -> None:
    source = tmp_path / "pipeline.yml"
    source.write_bytes(TEXT.encode())
    imported = drafts.import_draft(workspace, source)
    assert imported.draft.name == "nightly"  # its display_name
    target = tmp_path / "out" / "exported.yml"
    drafts.export_draft(workspace, "nightly", target)
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["exported.yml"]  # no temp file left

    plain = tmp_path / "plain-one.yml"
    plain.write_bytes(b"type: pipeline\n")
    assert drafts.import_draft(workspace, plain).draft.name == "plain-one"  # its stem
    with pytest.raises(InvalidName):
        drafts.import_draft(workspace, plain, name="no/slash")
    for missing in (tmp_path / "nowhere.yml", tmp_path):  # no file; a folder, not a file
        with pytest.raises(NotFound, match=r"not found: check the -f path"):
            drafts.import_draft(workspace, missing)
    latin = tmp_path / "latin.yml"
    latin.write_bytes("display_name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidValue, match="is not UTF-8 text: save it as UTF-8"):
        drafts.import_draft(workspace, latin)
    assert [d.name for d in drafts.list_drafts(workspace)] == ["nightly", "plain-one"]


def test_a_deleted_draft_is_gone(workspace: OpenWorkspace) -> None:
    drafts.save_draft(workspace, "d", TEXT)
    drafts.delete_draft(workspace, "d")
    with pytest.raises(NotFound, match="see `modelyard pipeline draft list`"):
        drafts.get_draft(workspace, "d")
    with pytest.raises(NotFound):
        drafts.delete_draft(workspace, "d")
