"""Python processes that can't import the extras' modules: a base install, simulated in the dev
venv. The blocker is a `sitecustomize` found first on PYTHONPATH, so the processes those
processes start (the CLI, a job's supervisor and script) can't import them either."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from modelyard.extras import EXTRA_MODULES

BLOCKER_FOLDER = Path(__file__).parent / "without_extras"
# Every extra's modules, and what they bring that Modelyard could reach for directly.
EXTRAS_MODULES = sorted({m for modules in EXTRA_MODULES.values() for m in modules} | {"starlette"})


def environment_without_extras() -> dict[str, str]:
    paths = [str(BLOCKER_FOLDER), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path for path in paths if path),
        "MODELYARD_BLOCKED_MODULES": ",".join(EXTRAS_MODULES),
    }


def python_without_extras(
    *arguments: str, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment_without_extras(),
    )
