"""What killed processes leave in a workspace, and the sweep that removes it.

- `cache/jobs/<run>`: the working copy of a run. Its supervisor removes it at the end; one
  killed with `kill -9` cannot, so the copy goes once the run has ended (or was deleted).
- `.tmp-…` files and folders of atomic writes killed before their rename (an artifact upload,
  a cache entry, a model's blob), under `artifacts/`, `cache/`, `models/` and `schedules/`, and
  submissions' staging folders killed halfway (`cache/staging/…`): removed once
  `temp_file_max_age_s` old, since younger ones may be writes in progress.
- model blobs no version uses, left by a registration killed between its files and its row:
  removed once as old (a registration in progress restores a blob collected under it).
- jobs stored for schedules (`schedules/`) no schedule names, left by a creation killed between
  its archive and its row or a deletion between its row and its archive: removed once as old.

The reaper calls `sweep_if_due` on each pass. A marker file's time keeps the sweep to once per
`leftover_sweep_interval_s` for all the processes of a workspace, so that a read of runs costs
one `stat`; the first read after that interval (a server's first, say) sweeps.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from modelyard.errors import NotFound
from modelyard.fileio import remove_stale_entries, remove_stale_temp_files
from modelyard.services import models, schedule_jobs
from modelyard.services.workspaces import OpenWorkspace

JOBS_FOLDER = "jobs"
STAGING_FOLDER = "staging"
SWEEP_MARKER = ".leftovers-swept"
SNAPSHOT_FOLDER = "snapshot"
# Folders of cache/ swept for nothing but whole working copies: those hold the users' own files
# (a `.tmp-…` of theirs is theirs), and environments are venvs their builder looks after.
_NOT_SWEPT_FOR_TEMP_FILES = frozenset({JOBS_FOLDER, "environments"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    working_copies: list[str] = field(default_factory=list)  # run ids
    temp_files: list[Path] = field(default_factory=list)
    model_blobs: list[str] = field(default_factory=list)  # SHA-256s
    schedule_jobs: list[str] = field(default_factory=list)  # SHA-256s


def working_copy(ws: OpenWorkspace, run_id: str) -> Path:
    """Where a run's job runs: a copy of its snapshot, removed when the run has ended."""
    return ws.cache_dir / JOBS_FOLDER / run_id


def remove_working_copy(ws: OpenWorkspace, run_id: str) -> None:
    shutil.rmtree(working_copy(ws, run_id), ignore_errors=True)


def sweep_if_due(ws: OpenWorkspace) -> Swept | None:
    """Sweep unless a process of this workspace did within `leftover_sweep_interval_s`. Runs
    inside reads of runs, so a disk that refuses (a read-only cache, say) is logged, not raised."""
    marker = ws.cache_dir / SWEEP_MARKER
    if time.time() - _modified_at(marker) < ws.settings.leftover_sweep_interval_s:
        return None
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()  # claimed before sweeping, so that concurrent readers skip it
        return sweep(ws)
    except OSError as error:
        log.warning("sweeping leftovers of workspace %s failed: %s", ws.root, error)
        return None


def sweep(ws: OpenWorkspace) -> Swept:
    return Swept(
        remove_ended_working_copies(ws),
        remove_stale_temp_files_of(ws),
        models.collect_orphan_blobs(ws, ws.settings.temp_file_max_age_s),
        schedule_jobs.collect_unnamed_jobs(ws, ws.settings.temp_file_max_age_s),
    )


def remove_ended_working_copies(ws: OpenWorkspace) -> list[str]:
    """Working copies of runs that have ended or are gone; a live run's copy is its job's."""
    removed = []
    for run_id in _folder_names(ws.cache_dir / JOBS_FOLDER):
        if _has_ended(ws, run_id):
            remove_working_copy(ws, run_id)
            removed.append(run_id)
    return removed


def remove_stale_temp_files_of(ws: OpenWorkspace) -> list[Path]:
    max_age_s = ws.settings.temp_file_max_age_s
    artifacts = ws.local_artifacts.root
    cache = ws.cache_dir

    def is_snapshot(folder: Path) -> bool:  # the user's code, as it was: nothing of ours
        return folder.name == SNAPSHOT_FOLDER and folder.parent.parent == artifacts

    def is_not_swept(folder: Path) -> bool:
        return folder.parent == cache and folder.name in _NOT_SWEPT_FOR_TEMP_FILES

    return [
        *remove_stale_temp_files(artifacts, max_age_s, skip=is_snapshot),
        *remove_stale_temp_files(cache, max_age_s, skip=is_not_swept),
        *remove_stale_temp_files(models.blob_store(ws).root, max_age_s),
        *remove_stale_temp_files(schedule_jobs.job_blobs(ws).root, max_age_s),
        *remove_stale_entries(cache / STAGING_FOLDER, max_age_s),
    ]


def _has_ended(ws: OpenWorkspace, run_id: str) -> bool:
    try:
        return ws.store.get_run(run_id).status.is_terminal
    except NotFound:
        return True  # the run was deleted


def _folder_names(folder: Path) -> list[str]:
    try:
        return [e.name for e in folder.iterdir() if e.is_dir() and not e.is_symlink()]
    except FileNotFoundError:
        return []


def _modified_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # missing (never swept), or unreadable: the sweep then says why
        return 0.0
