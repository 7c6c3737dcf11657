"""Hyperparameter sweeps with Azure ML v1's HyperDrive names (`azureml.train.hyperdrive`)::

    from modelyard.hyperdrive import HyperDriveConfig, RandomParameterSampling, choice, uniform

See `modelyard.sdk._hyperdrive` for the whole example. A sweep file (`type: sweep`, Azure v2's
sweep job) submitted with `modelyard job create -f sweep.yml` runs the same way.
"""

from __future__ import annotations

from modelyard.sdk._hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from modelyard.sdk._objects import HyperDriveRun

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
