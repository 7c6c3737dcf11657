"""Modelyard: a self-hosted machine-learning workspace.

The SDK, in one import::

    from modelyard import Workspace, Experiment, ScriptRunConfig, Environment, Run

    ws = Workspace.from_config()
    run = Experiment(ws, "flowers").submit(ScriptRunConfig(".", "train.py", ["--epochs", 3]))
    run.wait_for_completion(show_output=True)

and inside the script::

    run = Run.get_context()
    run.log("accuracy", 0.93)
"""

from modelyard.entities import RunStatus
from modelyard.environments import Environment
from modelyard.errors import (
    AlreadyExists,
    AuthError,
    Conflict,
    EnvironmentBuildFailed,
    GuardrailFailed,
    InvalidName,
    InvalidTransition,
    InvalidValue,
    JobFailed,
    LimitExceeded,
    ModelyardError,
    NotFound,
    PermissionDenied,
    SchemaOutOfDate,
    StoreUnavailable,
    UnsafePath,
)
from modelyard.sdk._experiment import Experiment
from modelyard.sdk._run import OfflineRun, Run
from modelyard.sdk._script_run_config import ScriptRunConfig
from modelyard.sdk._workspace import Workspace
from modelyard.vision.config import ImageClassificationConfig

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "AuthError",
    "Conflict",
    "Environment",
    "EnvironmentBuildFailed",
    "Experiment",
    "GuardrailFailed",
    "ImageClassificationConfig",
    "InvalidName",
    "InvalidTransition",
    "InvalidValue",
    "JobFailed",
    "LimitExceeded",
    "ModelyardError",
    "NotFound",
    "OfflineRun",
    "PermissionDenied",
    "Run",
    "RunStatus",
    "SchemaOutOfDate",
    "ScriptRunConfig",
    "StoreUnavailable",
    "UnsafePath",
    "Workspace",
    "__version__",
]
