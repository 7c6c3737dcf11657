"""Plain typed objects of the domain: every layer imports them; they import only errors."""

from modelyard.entities.auth import ApiToken, Caller, Role, User
from modelyard.entities.limits import describe as describe_limits
from modelyard.entities.names import (
    validate_compute_name,
    validate_experiment_name,
    validate_model_name,
    validate_token_name,
    validate_user_name,
    validate_workspace_name,
)
from modelyard.entities.records import Experiment, Metric, Run, RunData, RunSource, Workspace
from modelyard.entities.run_status import ALLOWED_TRANSITIONS, ResumableJob, RunStatus

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ApiToken",
    "Caller",
    "Experiment",
    "Metric",
    "ResumableJob",
    "Role",
    "Run",
    "RunData",
    "RunSource",
    "RunStatus",
    "User",
    "Workspace",
    "describe_limits",
    "validate_compute_name",
    "validate_experiment_name",
    "validate_model_name",
    "validate_token_name",
    "validate_user_name",
    "validate_workspace_name",
]
