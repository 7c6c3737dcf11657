"""Pipeline drafts (Azure's designer drafts): a pipeline YAML saved while it is being drawn,
whether or not it would run yet, with the designer's layout and a revision that each save
moves on (a save over an older revision than the draft's is refused: reload the draft).

The YAML text is kept exactly as given, so `modelyard pipeline draft import` then `export`
gives the same bytes, and a draft is what `modelyard job create -f` takes. A draft must be a
mapping to be saved; what else keeps it from running is its `problem` (`designer.py`),
answered with each save and read.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.entities.names import validate_pipeline_draft_name
from modelyard.entities.pipeline_drafts import DraftSummary, PipelineDraft, check_draft
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.fileio import write_bytes_atomic
from modelyard.services.pipelines.designer import Problem, check_definition, parse_definition
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.store.rest_pipeline_drafts import RestPipelineDrafts


@dataclass(frozen=True)
class DraftDetails:
    draft: PipelineDraft
    problem: Problem | None  # why it would not run now; None: it would

    def to_dict(self) -> dict[str, Any]:
        problem = None if self.problem is None else self.problem.to_dict()
        return {**self.draft.to_dict(), "problem": problem}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DraftDetails:
        found = data.get("problem")
        problem = (
            None
            if found is None
            else Problem(found["message"], found.get("step"), found.get("field"))
        )
        return cls(PipelineDraft.from_dict(data), problem)


def save_draft(
    ws: OpenWorkspace,
    name: str,
    definition: str,
    *,
    layout: Mapping[str, object] | None = None,
    revision: int | None = None,
    user: str | None = None,
) -> DraftDetails:
    """Create the draft (`revision` None) or save over `revision`, the one the editor opened."""
    validate_pipeline_draft_name(name)
    if ws.server_url is not None:
        body: dict[str, Any] = {"definition": definition, "layout": layout, "revision": revision}
        return DraftDetails.from_dict(_remote(ws).save(name, body))
    check_draft(name, definition)
    parse_definition(definition)  # a draft may not run yet, but it is a pipeline's mapping
    user = user or getpass.getuser()
    store = ws.pipeline_draft_store
    if revision is None:
        draft = store.create_pipeline_draft(name, definition, layout or {}, user)
    else:
        draft = store.update_pipeline_draft(name, definition, layout, revision, user)
    return _details(ws, draft)


def get_draft(ws: OpenWorkspace, name: str) -> DraftDetails:
    validate_pipeline_draft_name(name)
    if ws.server_url is not None:
        return DraftDetails.from_dict(_remote(ws).get(name))
    return _details(ws, ws.pipeline_draft_store.get_pipeline_draft(name))


def list_drafts(ws: OpenWorkspace) -> list[DraftSummary]:
    if ws.server_url is not None:
        return _remote(ws).list_all()
    return ws.pipeline_draft_store.list_pipeline_drafts()


def delete_draft(ws: OpenWorkspace, name: str) -> None:
    validate_pipeline_draft_name(name)
    if ws.server_url is not None:
        _remote(ws).delete(name)
        return
    ws.pipeline_draft_store.delete_pipeline_draft(name)


def import_draft(
    ws: OpenWorkspace,
    path: Path,
    name: str | None = None,
    user: str | None = None,
    *,
    replace: bool = False,
) -> DraftDetails:
    """A pipeline file as a new draft, its bytes as they are; named `name`, else the file's
    display_name, else its stem. `replace`: an existing draft of that name gets the file as
    its next revision (its canvas layout kept), as a save from the designer would."""
    try:
        definition = path.read_bytes().decode("utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise NotFound(
            f"pipeline file {path} not found: check the -f path", path=str(path)
        ) from None
    except PermissionError:
        raise InvalidValue(
            f"pipeline file {path} cannot be read (permission denied): make it readable",
            path=str(path),
        ) from None
    except UnicodeDecodeError:
        raise InvalidValue(
            f"pipeline file {path} is not UTF-8 text: save it as UTF-8", path=str(path)
        ) from None
    if name is None:
        display_name = parse_definition(definition).get("display_name")
        name = str(display_name) if display_name else path.stem
    revision = _current_revision(ws, name) if replace else None
    try:
        return save_draft(ws, name, definition, revision=revision, user=user)
    except AlreadyExists as error:
        raise AlreadyExists(
            f"pipeline draft {name!r} already exists: import with --replace to save over it"
            " as its next revision, give another name with --name, or delete it first",
            **error.context,
        ) from None


def _current_revision(ws: OpenWorkspace, name: str) -> int | None:
    """The draft's revision now; None when there is none (the import creates it). A save
    between this read and the import's is refused as any stale save is."""
    try:
        return get_draft(ws, name).draft.revision
    except NotFound:
        return None


def export_draft(ws: OpenWorkspace, name: str, path: Path) -> PipelineDraft:
    """The draft's text written to `path` exactly (a temp file renamed into place)."""
    draft = get_draft(ws, name).draft
    write_bytes_atomic(path, draft.definition.encode("utf-8"))
    return draft


def _details(ws: OpenWorkspace, draft: PipelineDraft) -> DraftDetails:
    return DraftDetails(draft, check_definition(ws, draft.definition, draft.name).problem)


def _remote(ws: OpenWorkspace) -> RestPipelineDrafts:
    from modelyard.store.rest_pipeline_drafts import RestPipelineDrafts

    return RestPipelineDrafts(ws.rest_store.client)
