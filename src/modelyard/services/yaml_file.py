"""Reading the YAML files users write (`job create -f`, `compute create -f`): one mapping, or
one line that says what is wrong with the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modelyard.errors import InvalidValue, NotFound


def read_yaml_mapping(path: Path, kind: str, expected: str) -> dict[str, Any]:
    """The file's mapping; `kind` names the file ("job file"), `expected` its main fields."""
    try:
        data = yaml.safe_load(path.read_text())
    except (FileNotFoundError, IsADirectoryError) as error:
        raise NotFound(
            f"{kind} {str(path)!r} not found: check the -f path", path=str(path)
        ) from error
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidValue(
            f"{kind} {path} is not valid YAML{line}: fix the syntax", path=str(path)
        ) from error
    if not isinstance(data, dict):
        raise InvalidValue(f"{kind} {path} must be a YAML mapping with {expected}", path=str(path))
    return data
