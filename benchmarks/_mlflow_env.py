"""MLflow for the benchmarks: a virtualenv of its own and the side scripts run in it.

Shared by `tracking.py` and `server.py`. On first use, `ensure_mlflow_venv` creates
`benchmarks/.cache/mlflow-venv` and installs MLflow 3.x into it, so Modelyard's `.venv` never
gets MLflow; later runs reuse it. `run_side` runs one of the `_mlflow_*side.py` scripts with that
virtualenv's python and returns the one JSON line it prints. Every failure becomes
`MlflowUnavailable`, whose message the benchmarks print in place of MLflow's results.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MLFLOW_VENV = CACHE / "mlflow-venv"
MLFLOW_REQUIREMENT = "mlflow>=3,<4"
INSTALL_STAMP = MLFLOW_VENV / ".benchmark-installed"
INSTALL_LOG = CACHE / "mlflow-install.log"


class MlflowUnavailable(Exception):
    """The MLflow side could not run; its message is printed in place of MLflow's results."""


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_mlflow_venv(timeout_s: float) -> Path:
    """The MLflow virtualenv's python, created and installed on the first run only."""
    python = venv_python(MLFLOW_VENV)
    if python.exists() and installed_requirement() == MLFLOW_REQUIREMENT:
        return python
    shutil.rmtree(MLFLOW_VENV, ignore_errors=True)
    make_cache()
    note(f"installing {MLFLOW_REQUIREMENT} into {MLFLOW_VENV} (first run only; log: {INSTALL_LOG})")
    deadline = time.monotonic() + timeout_s
    with INSTALL_LOG.open("w") as log:
        run_install_step([sys.executable, "-m", "venv", str(MLFLOW_VENV)], log, deadline)
        run_install_step([str(python), "-m", "pip", "install", MLFLOW_REQUIREMENT], log, deadline)
    INSTALL_STAMP.write_text(MLFLOW_REQUIREMENT)
    return python


def make_cache() -> None:
    """The cache folder, ignoring itself so that git never picks up the ~1 GB virtualenv."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("# Created by the benchmarks in benchmarks/.\n*\n")


def installed_requirement() -> str:
    return INSTALL_STAMP.read_text() if INSTALL_STAMP.exists() else ""


def run_install_step(command: list[str], log: Any, deadline: float) -> None:
    try:
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=max(1.0, deadline - time.monotonic()),
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as error:
        log.flush()
        shutil.rmtree(MLFLOW_VENV, ignore_errors=True)  # Half an install: start over next time.
        raise MlflowUnavailable(
            f"installing {MLFLOW_REQUIREMENT} failed ({describe(error)});"
            f" its log is {INSTALL_LOG}:\n{tail(INSTALL_LOG.read_text())}"
        ) from None


def describe(error: BaseException) -> str:
    if isinstance(error, subprocess.TimeoutExpired):
        return "it ran past --install-timeout"
    if isinstance(error, subprocess.CalledProcessError):
        return f"`{' '.join(map(str, error.cmd))}` exited with {error.returncode}"
    return str(error)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def run_side(command: list[str], timeout_s: float, scratch: Path) -> dict[str, Any]:
    """Run a side script in the MLflow virtualenv; the last JSON line it printed.

    It runs in a process group of its own, so that a timeout also stops what it started (an
    MLflow server and its workers), and nothing else.
    """
    process = subprocess.Popen(
        command,
        cwd=scratch,  # MLflow may write ./mlruns for artifacts: keep it in the scratch folder.
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise MlflowUnavailable(f"MLflow's measurement timed out after {timeout_s:.0f} s") from None
    finally:
        if process.poll() is None:  # timed out, or this script is being stopped
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise MlflowUnavailable(
            f"MLflow's measurement exited with {process.returncode}:\n{tail(stderr)}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result
