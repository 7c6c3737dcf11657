"""A clean interpreter: `isolated_python(requirements.txt)` gives an interpreter (`python -S
-s`) whose import path is the standard library plus a temporary folder of symbolic links to the
distributions the file names and everything they require, resolved from this environment's
installed metadata. No `.pth` file runs and no site-packages folder is searched, so the editable
`modelyard` install that the tests run from stays out of sight: generated starter code that
imports Modelyard fails. Shared by the image and the table starter checks.
"""

from __future__ import annotations

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

from modelyard.errors import EnvironmentBuildFailed, InvalidValue, NotFound

DEFAULT_TIMEOUT_S: Final = 120.0
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


@contextmanager
def isolated_python(requirements: Path) -> Iterator[IsolatedPython]:
    """A clean interpreter for the distributions in `requirements`, valid inside the block."""
    distributions = resolve_distributions(read_requirement_names(requirements))
    with tempfile.TemporaryDirectory(prefix="modelyard-isolated-") as folder:
        link_distributions(distributions, Path(folder))
        # -S: no site module, so no site-packages and no .pth files; -s: no user site either.
        yield IsolatedPython([sys.executable, "-S", "-s"], _clean_environment(Path(folder)))


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
