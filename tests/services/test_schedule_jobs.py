"""The jobs stored for schedules uploaded through a server (services/schedule_jobs.py), on
SQLite and PostgreSQL: a creation that fails leaves no stored job; the reaper's sweep collects
an old one no schedule names (a creation or deletion killed halfway) and keeps the others. The
store is keyed by content, so a schedule deleted and created again with the same bytes shares
the blob: each interleaving of the deletion's two steps with the creation keeps it (the
interleavings forced by running the other side between a step and the next, no clock)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from archives import tar_bytes
from modelyard.entities.schedules import CronTrigger, Schedule
from modelyard.errors import InvalidValue
from modelyard.services import leftovers, schedule_jobs, schedules
from modelyard.services.schedule_jobs import job_blobs, opened_stored_job, stored_job
from modelyard.services.workspaces import OpenWorkspace

NIGHTLY = CronTrigger(expression="0 2 * * *")


def _schedule(name: str, job_sha256: str | None) -> Schedule:
    now = datetime.now(UTC)
    return Schedule(name, "job.yml", NIGHTLY, "ana", now, job_sha256=job_sha256)


def test_a_creation_that_fails_removes_the_job_it_stored(workspace: OpenWorkspace) -> None:
    with pytest.raises(InvalidValue), stored_job(workspace, io.BytesIO(b"an archive")) as stored:
        assert job_blobs(workspace).has(stored.sha256)
        raise InvalidValue("the schedule's row was refused")
    assert not job_blobs(workspace).has(stored.sha256)


def test_the_sweep_collects_old_stored_jobs_no_schedule_names(workspace: OpenWorkspace) -> None:
    blobs = job_blobs(workspace)
    named, _size, _created = blobs.put_stream([b"the job of schedule nightly"])
    unnamed, _size, _created = blobs.put_stream([b"a creation killed before its row"])
    young, _size, _created = blobs.put_stream([b"a creation in progress"])
    workspace.schedule_store.create_schedule(_schedule("nightly", named))
    for sha in (named, unnamed):
        os.utime(blobs.path_of(sha), (0, 0))  # long ago

    swept = leftovers.sweep(workspace)
    assert swept.schedule_jobs == [unnamed]
    assert (blobs.has(named), blobs.has(unnamed), blobs.has(young)) == (True, False, True)


def test_the_sweep_leaves_an_old_job_alone_once_it_is_put_again(workspace: OpenWorkspace) -> None:
    """A creation with the same bytes as an old unnamed job (a deletion killed halfway) puts it
    again before its row exists: the put makes it young, so the sweep keeps it."""
    blobs = job_blobs(workspace)
    sha, _size, _created = blobs.put_stream([b"a job deleted and uploaded again"])
    os.utime(blobs.path_of(sha), (0, 0))  # long ago
    again, _size, created = blobs.put_stream([b"a job deleted and uploaded again"])
    assert (again, created) == (sha, False)
    assert leftovers.sweep(workspace).schedule_jobs == []
    assert blobs.has(sha)


def _uploaded() -> io.BytesIO:
    """The archive a client uploads for schedule "nightly": the same bytes every time."""
    description = {
        "experiment": "scheduled",
        "spec": {"script": "hello.py", "arguments": [], "environment": {"name": "default"}},
        "schedule": {"name": "nightly", "trigger": NIGHTLY.to_dict(), "create_job": "job.yml"},
    }
    files = {"job.json": json.dumps(description).encode(), "snapshot/hello.py": b"print(1)"}
    return io.BytesIO(tar_bytes(files))


def _create(ws: OpenWorkspace) -> Schedule:
    return schedules.create_uploaded_schedule(ws, _uploaded(), user="ana")


def _job_is_whole(ws: OpenWorkspace, name: str) -> None:
    with opened_stored_job(ws, ws.schedule_store.get_schedule(name)) as archive:
        assert archive.read() == _uploaded().getvalue()


def test_a_deletion_keeps_the_job_of_a_schedule_created_again_after_its_row_went(
    workspace: OpenWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deletion: row, then blob. The creation again runs between the two: the deletion's
    blob step sees the new row naming the blob and leaves it."""
    _create(workspace)
    remove = schedule_jobs.remove_stored_job

    def recreated_first(ws: OpenWorkspace, schedule: Schedule) -> None:
        _create(ws)
        remove(ws, schedule)

    monkeypatch.setattr(schedules, "remove_stored_job", recreated_first)
    schedules.delete_schedule(workspace, "nightly")
    _job_is_whole(workspace, "nightly")


def test_a_creation_writes_its_job_again_if_a_deletion_removed_it_before_its_row(
    workspace: OpenWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deletion: row, then blob; creation again: blob (found there, not written), then row.
    The deletion's blob step runs between the creation's two and removes the blob no row
    names then: the creation checks its blob under the lock that removal held, and writes it
    again."""
    old = _create(workspace)
    remove, create_checked = schedule_jobs.remove_stored_job, schedules._create_checked
    blob_step: list[Callable[[], None]] = []
    monkeypatch.setattr(
        schedules, "remove_stored_job", lambda ws, s: blob_step.append(lambda: remove(ws, s))
    )
    schedules.delete_schedule(workspace, old.name)  # its row; its blob step held back

    def blob_removed_meanwhile(ws: OpenWorkspace, *arguments: Any) -> Schedule:
        blob_step.pop()()
        assert not job_blobs(ws).has(str(old.job_sha256))
        return create_checked(ws, *arguments)

    monkeypatch.setattr(schedules, "_create_checked", blob_removed_meanwhile)
    assert _create(workspace).job_sha256 == old.job_sha256
    _job_is_whole(workspace, "nightly")
