"""Running a generated ConsoleApp the way a user would: without Modelyard importable.

`isolated_python(requirements.txt)` gives an interpreter (`python -S -s`) whose import path is
the standard library plus a temporary folder of symbolic links to the distributions the file
names and everything they require, resolved from this environment's installed metadata. No
`.pth` file runs and no site-packages folder is searched, so the editable `modelyard` install
that the tests run from stays out of sight: a generated project that imports Modelyard fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Final

from modelyard.errors import EnvironmentBuildFailed, InvalidValue, JobFailed, NotFound
from modelyard.vision.codegen import (
    CONSOLE_MAIN_FILE,
    CONSOLE_PROJECT_SUFFIX,
    MODEL_PROJECT_SUFFIX,
    REQUIREMENTS_FILE,
)
from modelyard.vision.predictor import ModelOutput

DEFAULT_TIMEOUT_S: Final = 120.0
STDERR_TAIL_LINES: Final = 5
_REQUIREMENT_NAME: Final = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class IsolatedPython:
    """An interpreter that sees the standard library and the linked distributions only."""

    command: list[str]
    env: dict[str, str]

    def run(
        self, arguments: Sequence[str], *, cwd: Path, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """`start`, waited for: TimeoutExpired (the process killed) past `timeout_s`."""
        with self.start(arguments, cwd=cwd) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def start(self, arguments: Sequence[str], *, cwd: Path) -> subprocess.Popen[str]:
        """The process, left running; read it with communicate()."""
        return subprocess.Popen(
            [*self.command, *arguments],
            cwd=cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )


class RunningConsoleApp:
    """A ConsoleApp started by `console_app_started`; `output()` waits for what it prints."""

    def __init__(self, process: subprocess.Popen[str], main_file: Path, timeout_s: float) -> None:
        self.process = process
        self.main_file = main_file
        self.timeout_s = timeout_s

    def output(self) -> ModelOutput:
        # The time limit runs from here, not from the start: while the caller worked (on the
        # same cores) the app may have finished, or been slowed, and neither is its fault.
        try:
            stdout, stderr = self.process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired as error:
            raise _timed_out(self.main_file, self.timeout_s) from error
        result = subprocess.CompletedProcess(
            self.process.args, self.process.returncode, stdout, stderr
        )
        return _parse_output(self.main_file, result)


def run_console_app(
    console_dir: Path, image: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> ModelOutput:
    """Run `<console_dir>/main.py --json [image]` in isolation and return what it printed."""
    with console_app_started(console_dir, image, timeout_s) as app:
        return app.output()


@contextmanager
def console_app_started(
    console_dir: Path, image: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Iterator[RunningConsoleApp]:
    """`run_console_app`, started in the background so the caller can work meanwhile.

    Leaving the block stops the app if it is still running (the caller failed first).
    """
    console_dir = Path(console_dir).absolute()
    main_file = console_dir / CONSOLE_MAIN_FILE
    requirements = model_dir_for(console_dir) / REQUIREMENTS_FILE
    _require_files(main_file, requirements)
    arguments = [str(main_file), "--json"]
    if image is not None:
        arguments.append(str(Path(image).absolute()))
    with (
        isolated_python(requirements) as python,
        python.start(arguments, cwd=console_dir) as process,
    ):
        try:
            yield RunningConsoleApp(process, main_file, timeout_s)
        finally:
            if process.poll() is None:
                process.kill()


def _require_files(*required: Path) -> None:
    for path in required:
        if not path.is_file():
            raise NotFound(
                f"starter project file {str(path)!r}: no such file; fix: generate the "
                "starter projects again",
                path=str(path),
            )


def model_dir_for(console_dir: Path) -> Path:
    """`X.ConsoleApp` predicts with the model project beside it, `X.Model`."""
    if not console_dir.name.endswith(CONSOLE_PROJECT_SUFFIX):
        raise InvalidValue(
            f"{str(console_dir)!r} is not a console project: its name should end with "
            f"{CONSOLE_PROJECT_SUFFIX!r}; fix: pass the folder generate_starter wrote",
            path=str(console_dir),
        )
    name = console_dir.name.removesuffix(CONSOLE_PROJECT_SUFFIX)
    return console_dir.with_name(f"{name}{MODEL_PROJECT_SUFFIX}")


@contextmanager
def isolated_python(requirements: Path) -> Iterator[IsolatedPython]:
    """A clean interpreter for the distributions in `requirements`, valid inside the block."""
    distributions = resolve_distributions(read_requirement_names(requirements))
    with tempfile.TemporaryDirectory(prefix="modelyard-isolated-") as folder:
        link_distributions(distributions, Path(folder))
        # -S: no site module, so no site-packages and no .pth files; -s: no user site either.
        yield IsolatedPython([sys.executable, "-S", "-s"], _clean_environment(Path(folder)))


def _timed_out(main_file: Path, timeout_s: float) -> JobFailed:
    return JobFailed(
        f"starter console app {str(main_file)!r} did not finish within {timeout_s:g} s; "
        "fix: check that the model loads, or allow more time with timeout_s",
        path=str(main_file),
    )


def _parse_output(main_file: Path, result: subprocess.CompletedProcess[str]) -> ModelOutput:
    if result.returncode != 0:
        raise JobFailed(
            f"starter console app {str(main_file)!r} exited with {result.returncode}: "
            f"{_tail(result.stderr)}; fix: run it by hand to see the whole error",
            path=str(main_file),
            returncode=result.returncode,
        )
    try:
        printed = json.loads(result.stdout)
        return ModelOutput(str(printed["Prediction"]), [float(x) for x in printed["Score"]])
    except (ValueError, KeyError, TypeError) as error:
        raise JobFailed(
            f"starter console app {str(main_file)!r} printed {result.stdout[:200]!r}, not a "
            "JSON object with Prediction and Score; fix: regenerate the starter projects",
            path=str(main_file),
        ) from error


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-STDERR_TAIL_LINES:]) or "(nothing on stderr)"


def _clean_environment(path_folder: Path) -> dict[str, str]:
    # Every PYTHON* variable could point imports back at this environment; drop them all.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(
        PYTHONPATH=str(path_folder),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",  # Leave no __pycache__ in the generated projects.
        PYTHONIOENCODING="utf-8",
    )
    return env


# --- which distributions, and linking them ---------------------------------------------------


def read_requirement_names(requirements: Path) -> list[str]:
    """The distribution names in a requirements file (versions, extras and markers dropped)."""
    names = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("-") or not (match := _REQUIREMENT_NAME.match(text)):
            raise InvalidValue(
                f"{str(requirements)!r}: cannot read requirement {line.strip()!r}; fix: list "
                "one distribution per line, such as 'numpy>=1.26'",
                path=str(requirements),
            )
        names.append(match.group(1))
    return names


def resolve_distributions(names: Iterable[str]) -> list[metadata.Distribution]:
    """The named distributions and, transitively, what they require (extras left out)."""
    pending: list[tuple[str, bool, str]] = [(name, False, "requirements.txt") for name in names]
    found: dict[str, metadata.Distribution] = {}
    while pending:
        name, conditional, required_by = pending.pop()
        if _normalize(name) in found:
            continue
        distribution = _installed(name, conditional, required_by)
        if distribution is None:
            continue
        found[_normalize(name)] = distribution
        pending.extend(
            (requirement, has_marker, distribution.metadata["Name"])
            for requirement, has_marker in _requirements_of(distribution)
        )
    return list(found.values())


def _installed(name: str, conditional: bool, required_by: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError as error:
        if conditional:  # Needed only where its marker holds (another platform or Python).
            return None
        raise NotFound(
            f"distribution {name!r} (required by {required_by}) is not installed in "
            f"{sys.prefix!r}; fix: pip install {name}",
            distribution=name,
        ) from error


def _requirements_of(distribution: metadata.Distribution) -> list[tuple[str, bool]]:
    """(name, has a marker) for each requirement that is not only for an extra."""
    requirements = []
    for requirement in distribution.requires or []:
        specifier, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = _REQUIREMENT_NAME.match(specifier)
        if match:
            requirements.append((match.group(1), bool(marker.strip())))
    return requirements


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def link_distributions(distributions: Iterable[metadata.Distribution], folder: Path) -> None:
    """Link each distribution's top-level entries (packages, modules, *.libs, dist-info)."""
    for distribution in distributions:
        for entry in top_level_entries(distribution):
            link = folder / entry.name
            if not (link.exists() or link.is_symlink()):  # Namespace folders are shared.
                link.symlink_to(entry, target_is_directory=entry.is_dir())


def top_level_entries(distribution: metadata.Distribution) -> list[Path]:
    files = distribution.files
    if files is None:
        raise EnvironmentBuildFailed(
            f"distribution {distribution.metadata['Name']!r} lists no files (no RECORD); "
            "fix: reinstall it with pip",
            distribution=distribution.metadata["Name"],
        )
    names = {PurePosixPath(str(file)).parts[0] for file in files}
    entries = [Path(str(distribution.locate_file(name))) for name in sorted(names) if _links(name)]
    return [entry for entry in entries if entry.exists()]


def _links(top_level_name: str) -> bool:
    # Scripts live outside site-packages (".."); caches and .pth files are not importable code.
    return top_level_name not in {"..", "/", "__pycache__"} and not top_level_name.endswith(".pth")
