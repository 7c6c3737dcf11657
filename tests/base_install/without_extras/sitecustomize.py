"""Loaded at start-up by every python whose path starts with this folder (see `blocking.py`): the
modules named in MODELYARD_BLOCKED_MODULES can't be imported, as in a base install."""

import os
import sys

_BLOCKED = frozenset(filter(None, os.environ.get("MODELYARD_BLOCKED_MODULES", "").split(",")))


class _BlockedModules:
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, _BlockedModules())
