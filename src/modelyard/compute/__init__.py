"""Compute backends, registered by name and imported lazily (as Metaflow lists its backends)."""

from __future__ import annotations

import importlib

from modelyard.compute.base import ComputeBackend, LaunchRequest, ProcessHandle
from modelyard.errors import NotFound

BACKENDS: dict[str, str] = {
    "local": "modelyard.compute.local:LocalCompute",
}


def get_backend(name: str) -> ComputeBackend:
    target = BACKENDS.get(name)
    if target is None:
        known = ", ".join(sorted(BACKENDS))
        raise NotFound(
            f"compute target {name!r} not found: use one of {known}",
            compute=name,
        )
    module_name, class_name = target.split(":")
    backend: ComputeBackend = getattr(importlib.import_module(module_name), class_name)()
    return backend


__all__ = ["BACKENDS", "ComputeBackend", "LaunchRequest", "ProcessHandle", "get_backend"]
