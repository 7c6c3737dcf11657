"""A pipeline's steps as child runs: the job a step submits, the properties that tie a child
to its step (recorded before it is queued), and the children read back as the steps' runs."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from modelyard.entities import Run, RunSource, RunStatus
from modelyard.services.jobs import ScriptJob
from modelyard.store.base import TrackingStore

STEP_PROPERTY: Final = "pipeline.step"
ATTEMPT_PROPERTY: Final = "pipeline.attempt"  # the parent's attempt that created the child
REUSED_PROPERTY: Final = "pipeline.reused_from"
REASON_PROPERTY: Final = "pipeline.reason"  # why it ran, or that it was reused
KEY_PROPERTY: Final = "pipeline.reuse_key"
STEPS_PROPERTY: Final = "pipeline.steps"  # on the parent: the steps in order, comma-separated
# The error of a child whose submission its driver never finished: it never ran, and its step
# is decided again. Told by its status and this error, set by one transition.
INTERRUPTED_ERROR: Final = (
    "its submission was interrupted (the pipeline's driver stopped): it never ran, and its"
    " step was submitted again"
)
_CHILDREN_READ: Final = 10_000


@dataclass(frozen=True)
class StepJob(ScriptJob):
    """A step's script, its `output_folders` made in `outputs/` (what `${{outputs.name}}`
    names), which the supervisor saves as the run's artifacts, and its data inputs in its
    `input_files` when its compute's machines can't read this disk."""

    source: RunSource | None = None

    def describe_source(self) -> RunSource:
        # The code is a copy in the driver's snapshot: no git to ask.
        return self.source or RunSource(script=self.script, arguments=self.arguments)


@dataclass(frozen=True)
class StepRun:
    """A child run of the pipeline run and the step it stands for."""

    run: Run
    properties: Mapping[str, str]

    @property
    def step(self) -> str | None:
        return self.properties.get(STEP_PROPERTY)

    @property
    def attempt(self) -> int:
        return int(self.properties.get(ATTEMPT_PROPERTY, "1"))

    @property
    def reused_from(self) -> str | None:
        return self.properties.get(REUSED_PROPERTY)

    @property
    def outputs_run(self) -> str:
        """The run whose artifacts hold this step's outputs."""
        return self.reused_from or self.run.id

    @property
    def status(self) -> RunStatus:
        return self.run.status


class StepReader:
    """Reads the children on each pass; an ended child never changes, so it is kept."""

    def __init__(self, store: TrackingStore) -> None:
        self.store = store
        self._ended: dict[str, StepRun] = {}

    def children(self, parent_id: str) -> list[StepRun]:
        """Oldest first."""
        found = self.store.list_runs(parent_id=parent_id, limit=_CHILDREN_READ)
        return [self._read(run) for run in reversed(found)]

    def _read(self, run: Run) -> StepRun:
        if run.id in self._ended:
            return self._ended[run.id]
        child = StepRun(run, self.store.get_run_data(run.id).properties)
        if run.status.is_terminal:
            self._ended[run.id] = child
        return child


def current_steps(children: list[StepRun], attempt: int) -> dict[str, StepRun]:
    """Each step's child that stands for it now: its latest, unless that one never ran (an
    interrupted submission) or ended Failed or Canceled in an earlier attempt of the pipeline
    run (a resumed pipeline runs that step again)."""
    current: dict[str, StepRun] = {}
    for child in children:  # oldest first: the latest wins
        if child.step is None or is_interrupted(child.run):
            continue
        superseded = child.status in (RunStatus.FAILED, RunStatus.CANCELED)
        if superseded and child.attempt < attempt:
            current.pop(child.step, None)
            continue
        current[child.step] = child
    return current


def is_interrupted(run: Run) -> bool:
    return run.status is RunStatus.CANCELED and run.error == INTERRUPTED_ERROR


def seal_outputs(folder: Path, is_folder: bool) -> None:
    """A completed step's output as its dependants read it: its files read-only (the run has
    ended; nothing may change what a reuse key's hash named). A folder output it never wrote
    is an empty folder."""
    if not folder.exists():
        if is_folder:
            folder.mkdir(parents=True, exist_ok=True)
        return
    files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
    for file in files:
        mode = file.stat().st_mode
        file.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
