"""Modelyard: a self-hosted machine-learning workspace.

The SDK, in one import::

    from modelyard import Workspace, Experiment, ScriptRunConfig, Environment, Run

    ws = Workspace.from_config()
    run = Experiment(ws, "flowers").submit(ScriptRunConfig(".", "train.py", ["--epochs", 3]))
    run.wait_for_completion(show_output=True)

and inside the script::

    run = Run.get_context()
    run.log("accuracy", 0.93)

The SDK's names are imported on first use: `import modelyard.errors` (or any module below the
SDK) loads that module, not the SDK and its database layer. This module is the SDK's front door
only: no module of the package imports it, except the demo, written as a user writes it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelyard._version import __version__
from modelyard.errors import (
    AlreadyExists,
    AuthError,
    ComputeErrored,
    Conflict,
    DeploymentFailed,
    EnvironmentBuildFailed,
    GuardrailFailed,
    InvalidName,
    InvalidTransition,
    InvalidValue,
    JobFailed,
    LimitExceeded,
    MissingExtra,
    ModelyardError,
    NotFound,
    PermissionDenied,
    SchemaOutOfDate,
    StoreUnavailable,
    UnsafePath,
)

if TYPE_CHECKING:
    from modelyard.entities import RunStatus
    from modelyard.environments import Environment
    from modelyard.sdk._batch_score import batch_score
    from modelyard.sdk._compute import AmlCompute, ComputeTarget
    from modelyard.sdk._data import Data, Dataset
    from modelyard.sdk._model import Model
    from modelyard.sdk._objects import (
        AutoMLRun,
        Experiment,
        OfflineRun,
        PipelineRun,
        Run,
        Workspace,
    )
    from modelyard.sdk._published_pipeline import Pipeline, PublishedPipeline, load_pipeline
    from modelyard.sdk._schedule import (
        CronTrigger,
        DataAssetTrigger,
        JobSchedule,
        RecurrencePattern,
        RecurrenceTrigger,
    )
    from modelyard.sdk._script_run_config import ScriptRunConfig
    from modelyard.sdk._webservice import (
        InferenceConfig,
        LocalWebservice,
        RayWebservice,
        Webservice,
    )
    from modelyard.tabular.config import AutoMLConfig
    from modelyard.vision.automl_config import ImageAutoMLConfig
    from modelyard.vision.config import ImageClassificationConfig

# Where each SDK name lives; imported by __getattr__ the first time it is asked for.
_LAZY_NAMES: dict[str, str] = {
    "RunStatus": "modelyard.entities",
    "Environment": "modelyard.environments",
    "AmlCompute": "modelyard.sdk._compute",
    "batch_score": "modelyard.sdk._batch_score",
    "ComputeTarget": "modelyard.sdk._compute",
    "AutoMLRun": "modelyard.sdk._objects",
    "Experiment": "modelyard.sdk._objects",
    "Model": "modelyard.sdk._model",
    "Data": "modelyard.sdk._data",
    "Dataset": "modelyard.sdk._data",
    "OfflineRun": "modelyard.sdk._objects",
    "Pipeline": "modelyard.sdk._published_pipeline",
    "PublishedPipeline": "modelyard.sdk._published_pipeline",
    "PipelineRun": "modelyard.sdk._objects",
    "load_pipeline": "modelyard.sdk._published_pipeline",
    "Run": "modelyard.sdk._objects",
    "Workspace": "modelyard.sdk._objects",
    "ScriptRunConfig": "modelyard.sdk._script_run_config",
    "CronTrigger": "modelyard.sdk._schedule",
    "DataAssetTrigger": "modelyard.sdk._schedule",
    "JobSchedule": "modelyard.sdk._schedule",
    "RecurrencePattern": "modelyard.sdk._schedule",
    "RecurrenceTrigger": "modelyard.sdk._schedule",
    "InferenceConfig": "modelyard.sdk._webservice",
    "LocalWebservice": "modelyard.sdk._webservice",
    "RayWebservice": "modelyard.sdk._webservice",
    "Webservice": "modelyard.sdk._webservice",
    "ImageClassificationConfig": "modelyard.vision.config",
    "AutoMLConfig": "modelyard.tabular.config",
    "ImageAutoMLConfig": "modelyard.vision.automl_config",
}

__all__ = [
    "AlreadyExists",
    "AmlCompute",
    "AuthError",
    "AutoMLConfig",
    "AutoMLRun",
    "ComputeErrored",
    "ComputeTarget",
    "Conflict",
    "CronTrigger",
    "Data",
    "DataAssetTrigger",
    "Dataset",
    "DeploymentFailed",
    "Environment",
    "EnvironmentBuildFailed",
    "Experiment",
    "GuardrailFailed",
    "ImageAutoMLConfig",
    "ImageClassificationConfig",
    "InferenceConfig",
    "InvalidName",
    "InvalidTransition",
    "InvalidValue",
    "JobFailed",
    "JobSchedule",
    "LimitExceeded",
    "LocalWebservice",
    "MissingExtra",
    "Model",
    "ModelyardError",
    "NotFound",
    "OfflineRun",
    "PermissionDenied",
    "Pipeline",
    "PipelineRun",
    "PublishedPipeline",
    "RayWebservice",
    "RecurrencePattern",
    "RecurrenceTrigger",
    "Run",
    "RunStatus",
    "SchemaOutOfDate",
    "ScriptRunConfig",
    "StoreUnavailable",
    "UnsafePath",
    "Webservice",
    "Workspace",
    "__version__",
    "batch_score",
    "load_pipeline",
]


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        # Not ours: lets `from modelyard import predict` find the submodule.
        raise AttributeError(f"module 'modelyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
