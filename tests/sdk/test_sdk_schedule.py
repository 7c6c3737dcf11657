"""Schedules through the SDK, in Azure ML v2's words (`JobSchedule`, `CronTrigger`,
`RecurrenceTrigger`, `RecurrencePattern`), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelyard import (
    CronTrigger,
    InvalidValue,
    JobSchedule,
    NotFound,
    RecurrencePattern,
    RecurrenceTrigger,
    Workspace,
)


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Iterator[Workspace]:
    workspace = Workspace.create("sdk-schedule", path=tmp_path / "ws", store_uri=store_uri)
    yield workspace
    workspace.close()


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("print('nightly')\n")
    path = tmp_path / "job.yml"
    path.write_text("experiment_name: nightly\ncommand: python train.py\n")
    return path


def test_create_list_disable_and_delete_as_in_azure(ws: Workspace, job: Path) -> None:
    nightly = JobSchedule(
        name="nightly",
        trigger=CronTrigger(expression="0 2 * * *", time_zone="Europe/Berlin"),
        create_job=job,
    ).create(ws)
    assert nightly.next_fire_at is not None
    assert nightly.next_fire_at.astimezone(CronTrigger(time_zone="Europe/Berlin").zone).hour == 2
    weekly = RecurrenceTrigger(
        frequency="week",  # type: ignore[arg-type]  # Azure's spelling, as a string
        interval=1,
        schedule=RecurrencePattern(hours=(6,), minutes=(30,), week_days=("monday",)),
        start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    made = JobSchedule(name="weekly", trigger=weekly, create_job=str(job), catch_up="skip")
    assert made.create(ws).catch_up.value == "skip"
    assert [s.name for s in JobSchedule.list(ws)] == ["nightly", "weekly"]
    assert JobSchedule.disable(ws, "weekly").next_fire_at is None
    assert JobSchedule.enable(ws, "weekly").enabled
    JobSchedule.delete(ws, "nightly")
    with pytest.raises(NotFound, match="schedule 'nightly' not found"):
        JobSchedule.get(ws, "nightly")
    with pytest.raises(InvalidValue, match="unknown time zone 'Atlantis'"):
        JobSchedule("lost", CronTrigger(expression="0 2 * * *", time_zone="Atlantis"), job).create(
            ws
        )
    assert [s.name for s in JobSchedule.list(ws)] == ["weekly"]
