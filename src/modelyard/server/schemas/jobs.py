"""Jobs: one tar archive in (`job.json` and `snapshot/…`, as the SDK packs it), a queued run out
(`runs.Run`)."""

from __future__ import annotations

from typing import Any, Final

# The archive's bytes; its members are checked by `services/job_upload.py`.
JOB_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: job.json and the snapshot/ folder, as the SDK packs a job",
}
