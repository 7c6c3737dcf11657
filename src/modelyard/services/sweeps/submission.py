"""Submitting a sweep (one whose driver stopped is resumed by `services/resume.py`)."""

from __future__ import annotations

from modelyard.entities import Run
from modelyard.services import jobs
from modelyard.services.jobs import ModuleJob
from modelyard.services.sweeps.samplers import require_sampling_extra
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.workspaces import OpenWorkspace


def submit_sweep(ws: OpenWorkspace, sweep: SweepJob, user: str | None = None) -> Run:
    """Queue the sweep's parent run, whose driver queues the trials; nothing is created when
    the sweep is wrong in itself or its trials' compute cannot take jobs."""
    return jobs.submit(ws, sweep_driver_job(ws, sweep), user=user)


def sweep_driver_job(ws: OpenWorkspace, sweep: SweepJob) -> ModuleJob:
    """The sweep, checked, as the driver job `jobs.submit` queues (or packs for a server)."""
    sweep.validate()
    require_sampling_extra(sweep.config)
    if ws.server_url is None:  # a server checks its own computes when the driver starts
        jobs.check_compute_takes_jobs(ws, sweep.config.compute)
    return sweep.with_seed().to_module_job()
