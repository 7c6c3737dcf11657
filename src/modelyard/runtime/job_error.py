"""A job's own account of why it failed.

A script that knows what went wrong says so (`Run.get_context().fail("…")`, or a built-in job's
`report_failure`), and the supervisor records those words as the run's error, in place of
"the script exited with code 1" and the log's last lines, which remain in the log. As with
Azure ML's `run.fail()`, a run failed this way ends Failed even if the script then exits 0.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from modelyard.fileio import write_json_atomic
from modelyard.runtime.job_env import ERROR_FILE_ENV

_MESSAGE_MAX = 10_000  # a run's error is a message, not a log


def report_failure(message: str, keep_earlier: bool = False) -> bool:
    """Inside a job, leave `message` for the supervisor (or, with `keep_earlier`, the reason
    already left, if any); False outside a job (nothing written)."""
    path = os.environ.get(ERROR_FILE_ENV)
    if not path:
        return False
    if not (keep_earlier and Path(path).exists()):
        write_json_atomic(Path(path), {"error": message[:_MESSAGE_MAX]})
    return True


def failed_job(message: str) -> int:
    """A built-in job's end on a one-line error: said on stderr and made the run's error (these
    words, not the log's tail); the job's exit code."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    report_failure(message)
    return 1


def reported_failure(path: Path) -> str | None:
    """What the job reported at `path`, or None if it reported nothing (or nothing readable)."""
    try:
        reported = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    message = reported.get("error") if isinstance(reported, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip()
