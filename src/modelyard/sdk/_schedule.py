"""Schedules in Azure ML v2's SDK words::

    from modelyard import CronTrigger, JobSchedule, RecurrenceTrigger, Workspace

    ws = Workspace.from_config()
    nightly = JobSchedule(
        name="nightly",
        trigger=CronTrigger(expression="0 2 * * *", time_zone="Europe/Berlin"),
        create_job="job.yml",
    )
    nightly.create(ws)         # Azure: ml_client.schedules.begin_create_or_update(nightly)
    JobSchedule.list(ws); JobSchedule.disable(ws, "nightly")

`RecurrenceTrigger(frequency="day", interval=1, schedule=RecurrencePattern(hours=(2,),
minutes=(0,)))`; `DataAssetTrigger(asset="flowers")` fires on each new version of a data
asset (the run's `modelyard.schedule_data_version` tag names it). The job file is read
again at each fire; in a workspace behind a server, its job is uploaded by `create` and each
fire runs that snapshot (services/schedules.py says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from modelyard.entities.schedules import (
    CronTrigger,
    DataAssetTrigger,
    RecurrencePattern,
    RecurrenceTrigger,
    Schedule,
)
from modelyard.services import schedules
from modelyard.services.workspaces import OpenWorkspace

__all__ = [
    "CronTrigger",
    "DataAssetTrigger",
    "JobSchedule",
    "RecurrencePattern",
    "RecurrenceTrigger",
]


class _HasOpenWorkspace(Protocol):
    """The SDK's `Workspace` (sdk/_objects.py), as far as a schedule needs it."""

    _opened: OpenWorkspace


@dataclass(frozen=True)
class JobSchedule(schedules.JobSchedule):
    """A job file fired by a trigger; `create` checks everything and stores it."""

    def create(self, workspace: _HasOpenWorkspace) -> Schedule:
        return schedules.create_schedule(workspace._opened, self)

    @staticmethod
    def list(workspace: _HasOpenWorkspace) -> list[Schedule]:
        return schedules.list_schedules(workspace._opened)

    @staticmethod
    def get(workspace: _HasOpenWorkspace, name: str) -> Schedule:
        return schedules.schedule_details(workspace._opened, name).schedule

    @staticmethod
    def enable(workspace: _HasOpenWorkspace, name: str) -> Schedule:
        return schedules.set_enabled(workspace._opened, name, True)

    @staticmethod
    def disable(workspace: _HasOpenWorkspace, name: str) -> Schedule:
        return schedules.set_enabled(workspace._opened, name, False)

    @staticmethod
    def delete(workspace: _HasOpenWorkspace, name: str) -> None:
        schedules.delete_schedule(workspace._opened, name)
