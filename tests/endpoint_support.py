"""A tiny real model and entry script for deployment tests, and clean-up of what they start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelyard.entities.endpoints import DeploymentRequest
from modelyard.entities.registry import ModelVersionRequest
from modelyard.services import endpoints, models
from modelyard.services.workspaces import OpenWorkspace

SCORE_PY = """
import json, os

def init():
    global factor
    with open(os.path.join(os.environ["MODELYARD_MODEL_DIR"], "weights.json")) as f:
        factor = json.load(f)["factor"]
    if factor < 0:
        raise ValueError(f"factor {factor} is negative")

held = []

def run(raw_data):
    data = json.loads(raw_data)
    if "allocate_mb" in data:  # held until the process ends: what outgrows --memory-gb
        held.append(b"x" * (data["allocate_mb"] << 20))
    cpus = sorted(os.sched_getaffinity(0))
    return {"y": factor * data["x"], "pid": os.getpid(), "cpus": cpus}
"""


def register_factor_model(ws: OpenWorkspace, root: Path, factor: int, name: str = "double") -> str:
    folder = root / f"model-{name}-{factor}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.json").write_text(json.dumps({"factor": factor}))
    version = models.register_model(ws, folder, ModelVersionRequest(name), user="ana")
    return version.reference


def source_dir(root: Path) -> Path:
    folder = root / "src"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(SCORE_PY)
    return folder


def script_request(
    root: Path, model: str, name: str = "blue", **fields: object
) -> DeploymentRequest:
    """A deployment of `model` to the endpoint `scorer`, scored by SCORE_PY in `root`/src."""
    return DeploymentRequest(
        endpoint="scorer",
        name=name,
        model=model,
        entry_script="score.py",
        source_directory=str(source_dir(root)),
        **fields,  # type: ignore[arg-type]
    )


@contextmanager
def endpoints_cleaned_up(ws: OpenWorkspace) -> Iterator[None]:
    """Whatever the test leaves, its hosts and replicas are stopped (by their handles)."""
    try:
        yield
    finally:
        for endpoint in endpoints.list_endpoints(ws):
            endpoints.delete_endpoint(ws, endpoint.name)
