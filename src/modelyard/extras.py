"""The optional parts of Modelyard (pip extras), and the one check that a feature's part is here.

A base install (`pip install modelyard`) has workspaces, experiments, runs, jobs, the CLI and the
SDK. Each extra adds a feature::

    vision    training and predicting image classifiers (Pillow, NumPy, PyTorch, ONNX)
    server    `modelyard server`: the REST API and the portal (FastAPI, uvicorn; httptools and
              uvloop, which it uses when installed and does without)
    postgres  workspaces on PostgreSQL (psycopg 3)
    demo      the demo's data set (scikit-learn)
    ray       computes on a Ray cluster (`--type ray`: the Ray Jobs API client)
    automl    AutoML for tables (FLAML, LightGBM, XGBoost, scikit-learn, pandas, skl2onnx,
              onnxmltools, onnxruntime)
    serving   a scoring replica (onnxruntime, Pillow, NumPy, Starlette, uvicorn; no torch)
    sweep     a sweep's Bayesian (Optuna) and Sobol (SciPy) sampling; random and grid sweeps
              need no extra

A feature calls `require_extra` before it imports what its extra brings, so a missing extra is
one line naming the extra and the command that installs it, never an ImportError from deep
inside. Nothing here imports the extras: the check only looks for them.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from typing import Final

from modelyard.errors import MissingExtra

# The modules each extra brings, as imported (the import name, not the pip name).
EXTRA_MODULES: Final[Mapping[str, tuple[str, ...]]] = {
    "vision": ("PIL", "numpy", "torch", "torchvision", "onnx", "onnxruntime"),
    "server": ("fastapi", "uvicorn", "fastapi_offline"),
    "postgres": ("psycopg",),
    "demo": ("sklearn",),
    "ray": ("ray",),
    "automl": (
        "flaml",
        "lightgbm",
        "xgboost",
        "sklearn",
        "pandas",
        "skl2onnx",
        "onnxmltools",
        "onnxruntime",
    ),
    "serving": ("onnxruntime", "PIL", "numpy", "starlette", "uvicorn"),
    "sweep": ("optuna", "scipy"),
}


def require_extra(extra: str, feature: str, modules: Sequence[str] | None = None) -> None:
    """Raise MissingExtra unless the modules of `extra` that `feature` needs are installed
    (`modules`: a part of the extra's modules, where the feature needs only those)."""
    needed = EXTRA_MODULES[extra] if modules is None else modules
    missing = [module for module in needed if not is_installed(module)]
    if missing:
        raise MissingExtra(
            f"{feature} needs the {extra!r} extra, and {', '.join(missing)}"
            f" {'is' if len(missing) == 1 else 'are'} not installed:"
            f" pip install 'modelyard[{extra}]'",
            extra=extra,
            missing=missing,
        )


def is_installed(module: str) -> bool:
    """Whether `module` can be imported, found without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None  # None: import blocked on purpose
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
