"""A job as one tar archive, the format both ends share: `job.json`, then `snapshot/…`.

The client packs a job here (`jobs.submit` in a workspace behind a server); the server checks
and unpacks it (`job_upload`). `job.json` holds the experiment, compute target, display name,
the job's spec and where its code came from.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

JOB_FILE: Final = "job.json"
SNAPSHOT_PREFIX: Final = "snapshot/"
JOB_FILE_MAX_BYTES: Final = 1024 * 1024


@contextmanager
def packed_job(description: Mapping[str, Any], stage: Callable[[Path], None]) -> Iterator[Path]:
    """The job as a temporary tar archive (deleted when the block ends): `description` as
    `job.json`, and the files `stage` writes into the snapshot folder it is given."""
    with tempfile.TemporaryDirectory(prefix="modelyard-job-") as scratch:
        snapshot = Path(scratch) / "snapshot"
        stage(snapshot)
        archive = Path(scratch) / "job.tar"
        with tarfile.open(archive, "w") as tar:
            _add_bytes(tar, JOB_FILE, json.dumps(description).encode())
            for file in sorted(path for path in snapshot.rglob("*") if path.is_file()):
                tar.add(file, SNAPSHOT_PREFIX + file.relative_to(snapshot).as_posix())
        yield archive


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
