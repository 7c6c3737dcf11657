"""MLflow for the benchmarks: a virtualenv of its own and the side scripts run in it.

Shared by `tracking.py` and `server.py`. On first use, `ensure_mlflow_venv` creates
`benchmarks/.cache/mlflow-venv` and installs MLflow 3.x into it, so Modelyard's `.venv` never
gets MLflow; later runs reuse it (and add psycopg2 the first time MLflow runs on PostgreSQL).
`run_side` runs one of the `_mlflow_*side.py` scripts with that virtualenv's python and returns
the one JSON line it prints. Every failure becomes `MlflowUnavailable`, whose message the
benchmarks print in place of MLflow's results.
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
# MLflow opens `postgresql://` URIs with psycopg2, which it does not install itself; added to the
# virtualenv only when a benchmark runs MLflow on PostgreSQL.
POSTGRES_DRIVER = "psycopg2-binary"
INSTALL_STAMP = MLFLOW_VENV / ".benchmark-installed"
INSTALL_LOG = CACHE / "mlflow-install.log"


class MlflowUnavailable(Exception):
    """The MLflow side could not run; its message is printed in place of MLflow's results."""


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_mlflow_venv(
    timeout_s: float, postgres: bool = False, extras: tuple[str, ...] = ()
) -> Path:
    """The MLflow virtualenv's python, created and installed on the first run only; with
    `postgres`, with MLflow's PostgreSQL driver too, and with `extras` (more requirements, e.g.
    what `mlflow models serve` needs for an ONNX model), added to an existing virtualenv."""
    python = venv_python(MLFLOW_VENV)
    wanted = [MLFLOW_REQUIREMENT, *([POSTGRES_DRIVER] if postgres else []), *extras]
    installed = installed_requirements() if python.exists() else []
    if MLFLOW_REQUIREMENT not in installed:
        shutil.rmtree(MLFLOW_VENV, ignore_errors=True)
        installed = []
    missing = [requirement for requirement in wanted if requirement not in installed]
    if not missing:
        return python
    make_cache()
    note(f"installing {' '.join(missing)} into {MLFLOW_VENV} (once; log: {INSTALL_LOG})")
    deadline = time.monotonic() + timeout_s
    with INSTALL_LOG.open("a" if installed else "w") as log:
        steps = [[str(python), "-m", "pip", "install", *missing]]
        if not installed:
            steps.insert(0, [sys.executable, "-m", "venv", str(MLFLOW_VENV)])
        for command in steps:
            # A failed first install leaves half a virtualenv, removed to start over next time;
            # a failed driver install leaves MLflow as it was, still usable on SQLite.
            run_install_step(command, log, deadline, missing, discard=not installed)
    INSTALL_STAMP.write_text("".join(f"{requirement}\n" for requirement in installed + missing))
    return python


def make_cache() -> None:
    """The cache folder, ignoring itself so that git never picks up the ~1 GB virtualenv."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("# Created by the benchmarks in benchmarks/.\n*\n")


def installed_requirements() -> list[str]:
    """What the stamp says was installed, one requirement a line."""
    return INSTALL_STAMP.read_text().splitlines() if INSTALL_STAMP.exists() else []


def run_install_step(
    command: list[str], log: Any, deadline: float, requirements: list[str], discard: bool
) -> None:
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
        if discard:
            shutil.rmtree(MLFLOW_VENV, ignore_errors=True)
        raise MlflowUnavailable(
            f"installing {' '.join(requirements)} failed ({describe(error)});"
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
