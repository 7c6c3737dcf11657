"""The `ray` compute type: each run a job of the Ray Jobs API on the compute's cluster
(`backend.py`), reporting through the workspace server (`runtime/remote_supervisor.py`).
Ray itself (the `ray` extra) is imported only when a Ray compute is used."""

from __future__ import annotations

from modelyard.compute.ray.backend import RayCompute

__all__ = ["RayCompute"]
