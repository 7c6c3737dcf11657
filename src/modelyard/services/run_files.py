"""Where a job's files live inside its run's artifacts (logs, its definition, its own error)."""

from __future__ import annotations

# What a job writes here the run keeps as its artifacts (its supervisor makes the folder).
OUTPUTS_FOLDER = "outputs"
STD_LOG = "logs/std_log.txt"
ENVIRONMENT_LOG = "logs/environment_build.log"
SUPERVISOR_LOG = "logs/supervisor.log"
JOB_SPEC = "system/job.json"
JOB_ERROR = "system/error.json"  # why the job failed, in its own words (runtime/job_error.py)
# Each attempt's log of a job that runs away from this disk (Ray), as its backend keeps it:
# attempt-1.txt, attempt-2.txt… (services/remote_logs.py); STD_LOG is them one after another.
REMOTE_LOGS = "system/remote_logs"
