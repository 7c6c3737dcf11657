"""A job as one tar archive, the format both ends share: `job.json`, then `snapshot/…`.

The client packs a job here (`jobs.submit` in a workspace behind a server); the server checks
and unpacks it (`job_upload`). `job.json` holds the experiment, compute target, display name,
the job's spec and where its code came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from modelyard.services.upload_archive import ArchiveForm, packed, upload_refusal

JOB_FILE: Final = "job.json"
SNAPSHOT_PREFIX: Final = "snapshot/"
JOB_FILE_MAX_BYTES: Final = 1024 * 1024
# How the server refuses an archive that is not a job's (`job_upload`, a published pipeline's
# or a schedule's job): one line, with the fix.
refused = upload_refusal(
    "job upload", "submit jobs with the Modelyard SDK or CLI of the server's version"
)
ARCHIVE: Final = ArchiveForm(JOB_FILE, JOB_FILE_MAX_BYTES, SNAPSHOT_PREFIX, refused, folders=True)


@contextmanager
def packed_job(description: Mapping[str, Any], stage: Callable[[Path], None]) -> Iterator[Path]:
    """The job as a temporary tar archive (deleted when the block ends): `description` as
    `job.json`, and the files `stage` writes into the snapshot folder it is given."""
    with packed(JOB_FILE, SNAPSHOT_PREFIX, description, stage) as archive:
        yield archive
