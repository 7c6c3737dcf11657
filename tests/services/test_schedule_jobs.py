"""The jobs stored for schedules uploaded through a server (services/schedule_jobs.py), on
SQLite and PostgreSQL: a creation that fails leaves no stored job; the reaper's sweep collects
an old one no schedule names (a creation or deletion killed halfway) and keeps the others."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest

from modelyard.entities.schedules import CronTrigger, Schedule
from modelyard.errors import InvalidValue
from modelyard.services import leftovers
from modelyard.services.schedule_jobs import job_blobs, stored_job
from modelyard.services.workspaces import OpenWorkspace

NIGHTLY = CronTrigger(expression="0 2 * * *")


def _schedule(name: str, job_sha256: str | None) -> Schedule:
    now = datetime.now(UTC)
    return Schedule(name, "job.yml", NIGHTLY, "ana", now, job_sha256=job_sha256)


def test_a_creation_that_fails_removes_the_job_it_stored(workspace: OpenWorkspace) -> None:
    with pytest.raises(InvalidValue), stored_job(workspace, io.BytesIO(b"an archive")) as sha:
        assert job_blobs(workspace).has(sha)
        raise InvalidValue("the schedule's row was refused")
    assert not job_blobs(workspace).has(sha)


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
