"""Compute backends, one per compute type, registered by name and imported lazily (as Metaflow
lists its backends): the `ray` backend needs the `ray` extra only when a ray compute is used."""

from __future__ import annotations

import importlib

from modelyard.compute.base import (
    BackendState,
    Capacity,
    ComputeBackend,
    LaunchRequest,
    ProcessHandle,
    ReportingAccess,
)
from modelyard.entities.compute import ComputeTarget, ComputeType

BACKENDS: dict[ComputeType, str] = {
    ComputeType.LOCAL: "modelyard.compute.local:LocalCompute",
    ComputeType.RAY: "modelyard.compute.ray:RayCompute",
}


def backend_for(compute: ComputeTarget) -> ComputeBackend:
    """The backend that runs `compute`'s jobs, configured for it (a Ray compute's address)."""
    module_name, class_name = BACKENDS[compute.type].split(":")
    backend: ComputeBackend = getattr(importlib.import_module(module_name), class_name)(compute)
    return backend


__all__ = [
    "BACKENDS",
    "BackendState",
    "Capacity",
    "ComputeBackend",
    "LaunchRequest",
    "ProcessHandle",
    "ReportingAccess",
    "backend_for",
]
