"""Builds each environment's venv once, in `<cache_dir>/<spec_hash>/`, and hands out its python.

The venv is built in place, not in a temporary folder renamed at the end: a venv hardcodes its
own path (the `bin/pip` and console-script shebangs, `activate`), so a renamed venv runs
`bin/python` fine but breaks every script installed into it. Instead a `.complete` marker is
written last, and a folder without it (a failed or killed build) is wiped before the next build.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from modelyard.environments.spec import Environment, python_version_of
from modelyard.errors import EnvironmentBuildFailed
from modelyard.fileio import exclusive_lock, write_json_atomic

COMPLETE_MARKER = ".complete"
HOST_PATHS_FILE = "_modelyard_host.pth"
REQUIREMENTS_FILE = "requirements.txt"
LOG_TAIL_LINES = 20
# The folder that holds the modelyard package (src/ of a checkout, or site-packages).
PACKAGE_PARENT = Path(__file__).parents[2]

# Modules whose site-packages folders a job needs to `import modelyard` without installing it
# (their own dependencies live beside them). psycopg is optional, used only where installed.
HOST_DEPENDENCY_MODULES = (
    "sqlalchemy",
    "alembic",
    "yaml",
    "typer",
    "rich",
    "pathspec",
    "psutil",
    "psycopg",
)
# What a scoring replica imports (`python -m modelyard.serving`, the `serving` extra), for a
# deployment whose environment does not install them itself: its own versions still win.
SERVING_DEPENDENCY_MODULES = (
    "starlette",
    "anyio",
    "uvicorn",
    "h11",
    "click",
    "httptools",
    "uvloop",
    "numpy",
    "PIL",
    "onnxruntime",
)


class EnvironmentBuilder:
    """Gives each job the interpreter of its environment, building the venv on first use."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir).absolute()

    def python_for(self, environment: Environment, log: TextIO | None = None) -> Path:
        if environment.is_default:
            return Path(sys.executable)
        spec_hash = environment.spec_hash()
        venv_dir = self.cache_dir / spec_hash
        if not _is_complete(venv_dir):
            # Concurrent jobs wait here; the first builds, the rest find it complete.
            with exclusive_lock(self.cache_dir / f"{spec_hash}.lock"):
                if not _is_complete(venv_dir):
                    _VenvBuild(environment, spec_hash, venv_dir, log).run()
                    return _venv_python(venv_dir)
        _write_line(log, f"environment {environment.name!r} (spec {spec_hash}) already built")
        return _venv_python(venv_dir)


@dataclass
class _VenvBuild:
    """One build of one venv, from an empty folder to the `.complete` marker."""

    environment: Environment
    spec_hash: str
    venv_dir: Path
    log: TextIO | None

    def run(self) -> None:
        base_python = self.environment.python or sys.executable
        _write_line(
            self.log,
            f"building environment {self.environment.name!r} (spec {self.spec_hash})"
            f" with {base_python} in {self.venv_dir}",
        )
        shutil.rmtree(self.venv_dir, ignore_errors=True)
        try:
            self._create_venv(base_python)
            self._install_requirements()
            _write_host_paths(self._site_packages())
            write_json_atomic(self.venv_dir / COMPLETE_MARKER, self._marker())
        except BaseException:
            # Nothing half-built may survive, whatever stopped the build.
            shutil.rmtree(self.venv_dir, ignore_errors=True)
            raise
        _write_line(self.log, f"environment {self.environment.name!r} built")

    def _create_venv(self, base_python: str) -> None:
        self.venv_dir.parent.mkdir(parents=True, exist_ok=True)
        command = [base_python, "-m", "venv", str(self.venv_dir)]
        self._run_step("python -m venv", command, "check the environment's python interpreter")

    def _install_requirements(self) -> None:
        requirements = self.venv_dir / REQUIREMENTS_FILE
        lines = self.environment.pip_requirements or ()
        requirements.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        # No index options: pip reads the host's pip.conf and PIP_* variables itself.
        command = [
            str(_venv_python(self.venv_dir)),
            *("-m", "pip", "install", "--disable-pip-version-check", "--no-input"),
            *("--progress-bar", "off", "-r", str(requirements)),
        ]
        self._run_step("pip install", command, "fix the requirements file")

    def _run_step(self, step: str, command: list[str], fix: str) -> None:
        exit_code, output_tail = _run_streamed(command, self.log)
        if exit_code == 0:
            return
        raise EnvironmentBuildFailed(
            f"environment {self.environment.name!r} failed to build: {step} exited with"
            f" {exit_code}: {_meaningful_error(output_tail)}; {fix}",
            environment=self.environment.name,
            spec_hash=self.spec_hash,
            log_tail="\n".join(output_tail),
        )

    def _site_packages(self) -> Path:
        version = python_version_of(self.environment.python or sys.executable)
        return self.venv_dir / "lib" / f"python{version}" / "site-packages"

    def _marker(self) -> dict[str, object]:
        return {
            "environment": self.environment.to_dict(),
            "spec_hash": self.spec_hash,
            "built_at": datetime.now(UTC).isoformat(),
        }


def host_import_paths() -> list[Path]:
    """Folders that let a job's python import modelyard and its dependencies from the host."""
    paths = [PACKAGE_PARENT]
    for module_name in (*HOST_DEPENDENCY_MODULES, *SERVING_DEPENDENCY_MODULES):
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            continue
        module_file = Path(spec.origin)
        is_package = spec.submodule_search_locations is not None
        paths.append(module_file.parent.parent if is_package else module_file.parent)
    return list(dict.fromkeys(paths))


def _write_host_paths(site_packages: Path) -> None:
    # Written after pip install, so pip neither sees the host's packages as "already satisfied"
    # nor leans on them: the environment holds everything it asked for. At run time site.py
    # appends these folders after the venv's own site-packages, so the environment's versions win.
    lines = "".join(f"{path}\n" for path in host_import_paths())
    (site_packages / HOST_PATHS_FILE).write_text(lines, encoding="utf-8")


def _run_streamed(command: list[str], log: TextIO | None) -> tuple[int, list[str]]:
    """Run `command`, copying its output to `log` line by line; its exit code and last lines."""
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=_build_environment(),
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            _write_line(log, line.rstrip("\n"))
            tail.append(line.rstrip())
        return process.wait(), list(tail)
    except BaseException:
        process.kill()
        process.wait()
        raise


def _build_environment() -> dict[str, str]:
    # The host's PYTHONPATH/PYTHONHOME would make pip see (and skip) the host's packages.
    environment = dict(os.environ)
    environment.pop("PYTHONPATH", None)
    environment.pop("PYTHONHOME", None)
    return environment


def _meaningful_error(output_tail: list[str]) -> str:
    """pip's last "ERROR:" line says what went wrong; notices may follow it."""
    errors = [line for line in output_tail if line.startswith("ERROR:")]
    if errors:
        return errors[-1].removeprefix("ERROR:").strip()
    lines = [line.strip() for line in output_tail if line.strip()]
    return lines[-1] if lines else "no output"


def _write_line(log: TextIO | None, line: str) -> None:
    if log is None:
        return
    log.write(line + "\n")
    log.flush()


def _is_complete(venv_dir: Path) -> bool:
    return (venv_dir / COMPLETE_MARKER).is_file()


def _venv_python(venv_dir: Path) -> Path:
    # Not resolved: the symlink's location is what makes python start inside the venv.
    return venv_dir / "bin" / "python"
