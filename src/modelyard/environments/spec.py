"""What a job runs in: the current interpreter, or a venv built from a pip requirements file.

An `Environment` is a value: the requirements are read when it is made, so a job stores exactly
what it asked for and the spec hash names the venv that satisfies it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidValue, NotFound

DEFAULT_ENVIRONMENT_NAME = "modelyard-default"
SPEC_HASH_LENGTH = 16

# pip treats " #" (whitespace then hash) as the start of a comment; a bare "#" can be part of a
# URL fragment such as "git+https://…#egg=name", so it must stay.
_INLINE_COMMENT = re.compile(r"(^|\s+)#.*$")
_NESTED_REQUIREMENTS = re.compile(r"^(-r|--requirement)(\s*=\s*|\s+)(?P<path>.+)$")
_CONSTRAINTS = re.compile(r"^(-c|--constraint)(\s*=\s*|\s+)")


@dataclass(frozen=True)
class Environment:
    """A named runtime for jobs; `pip_requirements=None` means the current interpreter."""

    name: str
    pip_requirements: tuple[str, ...] | None = None
    python: str | None = None

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | Path) -> Environment:
        """Read the requirements now, in file order, without comments or blank lines."""
        return cls(name=name, pip_requirements=tuple(read_requirements_file(Path(file_path))))

    @classmethod
    def default(cls) -> Environment:
        return cls(name=DEFAULT_ENVIRONMENT_NAME)

    @property
    def is_default(self) -> bool:
        return self.pip_requirements is None

    def spec_hash(self) -> str:
        """Names the venv: same requirements and Python major.minor, same hash.

        Order-insensitive (pip resolves a requirements file as one set) and blind to whitespace
        and the environment's name, so equivalent specs share one built venv.
        """
        payload = {
            "python": python_version_of(self.python or sys.executable),
            "requirements": sorted(self.pip_requirements or ()),
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return digest[:SPEC_HASH_LENGTH]

    def to_dict(self) -> dict[str, Any]:
        requirements = None if self.pip_requirements is None else list(self.pip_requirements)
        return {"name": self.name, "pip_requirements": requirements, "python": self.python}

    @classmethod
    def from_json(cls, text: str) -> Environment:
        """A deployment's environment as it is recorded (this class's dict as JSON text)."""
        try:
            return cls.from_dict(json.loads(text))
        except (json.JSONDecodeError, TypeError, AttributeError):
            raise InvalidValue(
                "a deployment's environment is an environment's JSON spec "
                '({"name", "pip_requirements", "python"})'
            ) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Environment:
        name = data.get("name")
        requirements = data.get("pip_requirements")
        python = data.get("python")
        if not isinstance(name, str) or not name:
            raise InvalidValue(
                f"environment record has name {name!r}: store a non-empty string", name=name
            )
        if requirements is not None and not _is_list_of_strings(requirements):
            raise InvalidValue(
                f"environment {name!r} has pip_requirements {requirements!r}:"
                " store a list of strings or null",
                name=name,
            )
        if python is not None and not isinstance(python, str):
            raise InvalidValue(
                f"environment {name!r} has python {python!r}: store a path string or null",
                name=name,
            )
        return cls(
            name=name,
            pip_requirements=None if requirements is None else tuple(requirements),
            python=python,
        )


def read_requirements_file(path: Path) -> list[str]:
    """The requirement lines of `path`, normalised, with `-r FILE` includes inlined.

    Inlining matters because the environment keeps the text, not the file: a relative include
    would not resolve later, and the spec hash must change when an included file does.
    """
    return _read_requirements(path, seen=frozenset())


def _read_requirements(path: Path, seen: frozenset[Path]) -> list[str]:
    path = path.absolute()
    if not path.is_file():
        raise NotFound(
            f"requirements file {path} not found: check the path to the pip requirements file",
            path=str(path),
        )
    if path in seen:
        raise InvalidValue(
            f"requirements file {path} includes itself through -r: remove the cycle",
            path=str(path),
        )
    requirements: list[str] = []
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        requirements.extend(_expand_line(path, line, seen | {path}))
    return requirements


def normalise_requirement(line: str) -> str:
    """One requirement line without its comment and with single spaces; '' if nothing is left."""
    return " ".join(_INLINE_COMMENT.sub("", line).split())


@functools.lru_cache(maxsize=16)
def python_version_of(python: str) -> str:
    """The "major.minor" of an interpreter, asked once per path."""
    if python == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        completed = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise NotFound(
            f"python interpreter {python!r} cannot be run ({error}):"
            " set the environment's python to an installed interpreter",
            python=python,
        ) from error
    return completed.stdout.strip()


def _logical_lines(text: str) -> list[str]:
    # pip joins a line ending in a backslash with the next one.
    return text.replace("\\\r\n", "").replace("\\\n", "").splitlines()


def _expand_line(path: Path, line: str, seen: frozenset[Path]) -> list[str]:
    requirement = normalise_requirement(line)
    if not requirement:
        return []
    if _CONSTRAINTS.match(requirement):
        raise InvalidValue(
            f"requirements file {path} uses a constraints file ({requirement!r}):"
            " pin those versions in the requirements file instead",
            path=str(path),
        )
    nested = _NESTED_REQUIREMENTS.match(requirement)
    if nested:
        return _read_requirements(path.parent / nested.group("path"), seen)
    return [requirement]


def _is_list_of_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
