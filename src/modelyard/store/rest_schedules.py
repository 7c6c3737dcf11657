"""Schedules of a workspace behind a server, through its `/schedules` routes. The server's
loop fires them: a client uploads the job with the schedule (`create_with_job`), as it cannot
name a job file on the server's disk (only the admin-only `POST /schedules` of the API does;
no client of ours sends it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.entities.schedules import Schedule, ScheduleFire
from modelyard.store.rest_client import RestClient, segment


class RestSchedules:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def create_with_job(self, archive: Path) -> Schedule:
        """`archive`: the job packed as for `POST /jobs`, the schedule in its job.json
        (services/schedule_jobs.py)."""
        return Schedule.from_dict(self.client.post_job_archive("/schedules/with-job", archive))

    def list_all(self) -> list[Schedule]:
        return [Schedule.from_dict(item) for item in self.client.call("GET", "/schedules")]

    def details(self, name: str) -> tuple[Schedule, list[ScheduleFire]]:
        """The schedule and its recent fires, newest first."""
        answer: dict[str, Any] = self.client.call("GET", f"/schedules/{segment(name)}")
        fires = [ScheduleFire.from_dict(item) for item in answer["fires"]]
        return Schedule.from_dict(answer), fires

    def set_enabled(self, name: str, enabled: bool) -> Schedule:
        action = "enable" if enabled else "disable"
        return Schedule.from_dict(self.client.call("POST", f"/schedules/{segment(name)}/{action}"))

    def delete(self, name: str) -> None:
        self.client.call("DELETE", f"/schedules/{segment(name)}")
