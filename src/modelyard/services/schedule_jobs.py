"""The jobs uploaded with schedules: a schedule created through a server, from any machine.

A client of a server cannot name a job file on the server's disk, so `schedule create` packs
the job file's job exactly as `job create -f` sends it to a server (`jobs.packed_for_server`:
a command job's code snapshot and input files, a sweep's or a pipeline's driver with its
trials' or steps' code), the schedule's own fields added to its `job.json`. The server checks
that archive whole, as it checks a job upload (`job_upload.received_job`: regular files only,
safe names, the upload size limit, a valid job), before anything exists; then keeps it in a
blob store of its own, `<workspace>/schedules/sha256/ab/<hex>` (`store/blobs.py`: written
under a temporary name, hashed while copied, renamed, read-only), and the schedule's row
names it by that SHA-256.

Each fire checks the hash and submits a fresh unpacked copy of the archive as an `UploadedJob`, as
if the client had uploaded it at that moment. So the job is a snapshot of creation time: its code,
its input files, pinned data versions, a random sweep's seed; but `@latest` data inputs are kept
unbound and bound by the server at each fire (`job_upload.UploadedJob.bound`), so a fire reads the
data as it is then. To change it, delete the schedule and create it again. Deleting the schedule
removes its archive; one no schedule names (a creation or deletion killed halfway) is collected by
the reaper's sweep (`services/leftovers.py`) once `temp_file_max_age_s` old.

The store is keyed by content, so a schedule deleted and created again with the same bytes finds
its archive still there, while the deletion, or the reaper, is about to remove it. So a blob is
removed only under the schedule store's jobs lock, after checking that no row names it
(`collect_unnamed_jobs`), and a creation checks its blob under the same lock, writing it again if
it was removed meanwhile (`StoredJob.ensure_stored`), before its row; and the reaper removes only
a blob still old then (putting it again touched it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Final

from modelyard.entities.schedules import Schedule
from modelyard.errors import InvalidValue, NotFound
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.blobs import CHUNK_SIZE, BlobStore

SCHEDULE_JOBS_FOLDER: Final = "schedules"  # the blob store, in the workspace folder
SCHEDULE_FIELD: Final = "schedule"  # the schedule's fields, in the uploaded job's job.json


def job_blobs(ws: OpenWorkspace) -> BlobStore:
    return BlobStore(ws.root / SCHEDULE_JOBS_FOLDER, kind="schedule job")


@dataclass(frozen=True)
class StoredJob:
    sha256: str
    archive: IO[bytes]
    blobs: BlobStore

    def ensure_stored(self) -> None:
        """Called under the jobs' lock, before the schedule's row is written: the archive
        written again if a deletion or the reaper removed the blob since it was stored."""
        if not self.blobs.has(self.sha256):
            self.blobs.restore(self.sha256, self.archive)


@contextmanager
def stored_job(ws: OpenWorkspace, archive: IO[bytes]) -> Iterator[StoredJob]:
    """The (checked) archive, from its start, stored for the block that creates the schedule
    naming it (`create_schedule(…, check_job=stored.ensure_stored)`); removed again if that
    block fails and no schedule names it, so a failed creation leaves no file."""
    archive.seek(0)
    blobs = job_blobs(ws)
    sha256, _size, _created = blobs.put_stream(iter(lambda: archive.read(CHUNK_SIZE), b""))
    try:
        yield StoredJob(sha256, archive, blobs)
    except BaseException:
        ws.schedule_store.collect_unnamed_jobs([sha256], blobs.remove)
        raise


@contextmanager
def opened_stored_job(ws: OpenWorkspace, schedule: Schedule) -> Iterator[IO[bytes]]:
    """The schedule's stored archive, at its start, its bytes checked against its hash."""
    assert schedule.job_sha256 is not None  # the caller checked it is an uploaded job
    path = job_blobs(ws).path_of(schedule.job_sha256)
    try:
        with open(path, "rb") as archive:
            _check_hash(schedule, archive)
            archive.seek(0)
            yield archive
    except FileNotFoundError:
        raise NotFound(
            f"the job stored for schedule {schedule.name} ({path}) is gone: create the"
            f" schedule again (`modelyard schedule delete {schedule.name}`, then"
            " `modelyard schedule create -f …`)",
            path=str(path),
        ) from None


def _check_hash(schedule: Schedule, archive: IO[bytes]) -> None:
    digest = hashlib.sha256()
    while chunk := archive.read(CHUNK_SIZE):
        digest.update(chunk)
    if digest.hexdigest() != schedule.job_sha256:
        raise InvalidValue(
            f"the job stored for schedule {schedule.name} was changed on disk since its"
            f" creation (sha256 {digest.hexdigest()}, not {schedule.job_sha256}): create the"
            " schedule again",
            schedule=schedule.name,
        )


def remove_stored_job(ws: OpenWorkspace, schedule: Schedule) -> None:
    """The deleted schedule's archive, unless a schedule created since names the same bytes."""
    if schedule.job_sha256 is not None:
        ws.schedule_store.collect_unnamed_jobs([schedule.job_sha256], job_blobs(ws).remove)


def collect_unnamed_jobs(ws: OpenWorkspace, max_age_s: float) -> list[str]:
    """Stored jobs older than `max_age_s` that no schedule names: what a creation killed
    between its archive and its row, or a deletion between its row and its archive, left.
    A creation in progress stored (or put again) its archive moments ago: younger, so not
    collected; and it checks its archive under the lock the removal holds."""
    if ws.server_url is not None:
        return []
    blobs = job_blobs(ws)
    removed = []

    def remove_if_still_old(sha256: str) -> None:  # a creation may have put it again since
        if blobs.is_older_than(sha256, max_age_s):
            blobs.remove(sha256)
            removed.append(sha256)

    ws.schedule_store.collect_unnamed_jobs(blobs.blobs_older_than(max_age_s), remove_if_still_old)
    return removed
