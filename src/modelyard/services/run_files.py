"""Where a job's files live inside its run's artifacts (logs, its definition, its own error)."""

from __future__ import annotations

STD_LOG = "logs/std_log.txt"
ENVIRONMENT_LOG = "logs/environment_build.log"
SUPERVISOR_LOG = "logs/supervisor.log"
JOB_SPEC = "system/job.json"
JOB_ERROR = "system/error.json"  # why the job failed, in its own words (runtime/job_error.py)
