"""Schedules firing real job files into real runs, on SQLite and PostgreSQL: on a fake `now`,
through the real background loop, under two racing passes (once only), with catch-up once or
skip, a watched folder, disable/enable, and a job file gone at fire time."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.sweep_files import SWEEP, TRAIN
from modelyard.entities import RunStatus
from modelyard.entities.data import DataVersionRequest
from modelyard.entities.schedules import (
    CatchUp,
    CronTrigger,
    DataAssetTrigger,
    FolderTrigger,
    Frequency,
    RecurrenceTrigger,
)
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.services import data, jobs
from modelyard.services.background import BackgroundLoop
from modelyard.services.schedules import (
    DATA_VERSION_TAG,
    FIRE_TIME_TAG,
    SCHEDULE_TAG,
    JobSchedule,
    create_schedule,
    fire_due_schedules,
    schedule_details,
    set_enabled,
)
from modelyard.services.workspaces import OpenWorkspace, open_workspace

T0 = datetime(2027, 1, 4, 9, 0, 30, tzinfo=UTC)
HOURLY = RecurrenceTrigger(frequency=Frequency.HOUR, start_time=datetime(2027, 1, 4, tzinfo=UTC))


def job_file(folder: Path, name: str = "job.yml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.py").write_text("print('fired')\n")
    path = folder / name
    path.write_text("experiment_name: scheduled\ncommand: python hello.py\n")
    return path


def schedule(ws: OpenWorkspace, tmp_path: Path, name: str, **fields: object) -> JobSchedule:
    request = JobSchedule(
        name=name,
        trigger=fields.pop("trigger", HOURLY),  # type: ignore[arg-type]
        create_job=fields.pop("create_job", None) or job_file(tmp_path / "project"),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )
    create_schedule(ws, request, user="ana", now=fields.get("now", T0))  # type: ignore[arg-type]
    return request


def finish(ws: OpenWorkspace, run_id: str) -> None:
    assert jobs.wait_for_completion(ws, run_id, timeout_s=120).status is RunStatus.COMPLETED


def test_a_due_schedule_fires_one_tagged_run_and_show_lists_it(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    schedule(workspace, tmp_path, "hourly")
    assert workspace.schedule_store.get_schedule("hourly").next_fire_at == T0.replace(
        hour=10, second=0
    )
    assert fire_due_schedules(workspace, T0 + timedelta(minutes=30)) == []
    at_ten = datetime(2027, 1, 4, 10, 0, 20, tzinfo=UTC)
    [fire] = fire_due_schedules(workspace, at_ten)
    assert fire.fire_time == datetime(2027, 1, 4, 10, tzinfo=UTC) and fire.error is None
    assert fire_due_schedules(workspace, at_ten) == []  # idempotent: that time has fired
    assert fire.run_id is not None
    finish(workspace, fire.run_id)
    tags = workspace.store.get_run_data(fire.run_id).tags
    assert tags[SCHEDULE_TAG] == "hourly"
    assert tags[FIRE_TIME_TAG] == "2027-01-04T10:00:00+00:00"
    details = schedule_details(workspace, "hourly")
    assert [f.run_id for f in details.fires] == [fire.run_id]
    assert details.schedule.last_fired_at == fire.fire_time
    assert details.schedule.next_fire_at == datetime(2027, 1, 4, 11, tzinfo=UTC)


def test_after_downtime_catch_up_once_fires_once_and_skip_fires_none(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    schedule(workspace, tmp_path, "catch-up", catch_up=CatchUp.ONCE)
    schedule(workspace, tmp_path, "skipper", catch_up=CatchUp.SKIP)
    after_five_hours = datetime(2027, 1, 4, 14, 20, tzinfo=UTC)
    fired = fire_due_schedules(workspace, after_five_hours)
    assert [(f.schedule, f.fire_time) for f in fired] == [
        ("catch-up", datetime(2027, 1, 4, 14, tzinfo=UTC))
    ]
    for name in ("catch-up", "skipper"):
        got = workspace.schedule_store.get_schedule(name)
        assert got.next_fire_at == datetime(2027, 1, 4, 15, tzinfo=UTC)
    assert fired[0].run_id is not None
    finish(workspace, fired[0].run_id)


def racing_passes(workspace: OpenWorkspace, nows: list[datetime]) -> list[str]:
    """The schedules fired by passes started together, one a `now`, each with its own engine
    and connections; every name as often as it fired."""
    passes = [open_workspace(workspace.root) for _ in nows]
    start = threading.Barrier(len(passes))
    results: list[list[str]] = []

    def fire(ws: OpenWorkspace, now: datetime) -> None:
        start.wait()
        results.append([f.schedule for f in fire_due_schedules(ws, now)])

    threads = [threading.Thread(target=fire, args=pair) for pair in zip(passes, nows, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for ws in passes:
        ws.close()
    return [name for fired in results for name in fired]


def test_two_racing_passes_fire_each_time_once(workspace: OpenWorkspace, tmp_path: Path) -> None:
    names = [f"race-{index}" for index in range(4)]
    for name in names:
        schedule(workspace, tmp_path, name)
    at_ten = datetime(2027, 1, 4, 10, 0, 5, tzinfo=UTC)
    assert sorted(racing_passes(workspace, [at_ten] * 3)) == names
    runs = workspace.store.list_runs("scheduled")
    assert sorted(workspace.store.get_run_data(r.id).tags[SCHEDULE_TAG] for r in runs) == names
    for run in runs:
        finish(workspace, run.id)


def test_a_folder_trigger_fires_once_per_change_of_its_content(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "images" / "a.txt").write_text("one")
    schedule(workspace, tmp_path, "on-data", trigger=FolderTrigger(path=str(data)))
    assert fire_due_schedules(workspace, T0) == []  # the content at creation is the baseline
    (data / "images" / "a.txt").write_text("two")
    [first] = fire_due_schedules(workspace, T0 + timedelta(seconds=1))
    assert fire_due_schedules(workspace, T0 + timedelta(seconds=2)) == []
    (data / "b.txt").write_text("new file")
    [second] = fire_due_schedules(workspace, T0 + timedelta(seconds=3))
    for fire in (first, second):
        assert fire.run_id is not None
        finish(workspace, fire.run_id)


def new_version(ws: OpenWorkspace, tmp_path: Path, name: str, content: str) -> int:
    folder = tmp_path / f"{name}-{content}"
    folder.mkdir()
    (folder / "a.txt").write_text(content)
    return data.create_data(ws, folder, DataVersionRequest(name)).version.version


def test_a_data_trigger_fires_once_per_new_version_and_not_for_archiving(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    new_version(workspace, tmp_path, "flowers", "one")
    schedule(workspace, tmp_path, "on-flowers", trigger=DataAssetTrigger(asset="flowers"))
    assert fire_due_schedules(workspace, T0) == []  # the versions at creation are the baseline
    assert new_version(workspace, tmp_path, "flowers", "two") == 2
    [fire] = fire_due_schedules(workspace, T0 + timedelta(seconds=1))
    assert fire_due_schedules(workspace, T0 + timedelta(seconds=2)) == []
    data.set_archived(workspace, "flowers:2", True)
    data.set_archived(workspace, "flowers:2", False)
    assert fire_due_schedules(workspace, T0 + timedelta(seconds=3)) == []
    assert fire.run_id is not None
    finish(workspace, fire.run_id)
    tags = workspace.store.get_run_data(fire.run_id).tags
    assert (tags[SCHEDULE_TAG], tags[DATA_VERSION_TAG]) == ("on-flowers", "data:flowers:2")


def test_two_racing_passes_fire_a_new_data_version_once(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    new_version(workspace, tmp_path, "flowers", "one")
    schedule(workspace, tmp_path, "on-flowers", trigger=DataAssetTrigger(asset="flowers"))
    new_version(workspace, tmp_path, "flowers", "two")
    # Each pass its own `now`: only the compare-and-swap of the version seen stops a second fire.
    nows = [T0 + timedelta(seconds=second) for second in range(3)]
    assert racing_passes(workspace, nows) == ["on-flowers"]
    [run] = workspace.store.list_runs("scheduled")
    finish(workspace, run.id)


def test_a_data_trigger_on_an_unknown_asset_is_refused_in_one_line(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    with pytest.raises(NotFound) as caught:
        schedule(workspace, tmp_path, "on-nothing", trigger=DataAssetTrigger(asset="nothing"))
    assert "data asset 'nothing' not found" in caught.value.message
    assert "\n" not in caught.value.message
    assert workspace.schedule_store.list_schedules() == []


def rewrite_in_place(file: Path, content: bytes) -> None:
    """New bytes, same size, inode and mtime: only a hash that reads the file sees it."""
    stat = file.stat()
    with open(file, "r+b") as handle:
        handle.write(content)
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_folder_trigger_reads_no_unchanged_file_and_fires_on_a_changed_one(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    watched = tmp_path / "data"
    watched.mkdir()
    for name in ("a.txt", "b.txt"):
        (watched / name).write_text("one")
        # Old enough to be remembered (a file written within FRESH_S is always read again).
        os.utime(watched / name, (1_000_000_000, 1_000_000_000))
    schedule(workspace, tmp_path, "on-data", trigger=FolderTrigger(path=str(watched)))
    rewrite_in_place(watched / "a.txt", b"two")
    assert fire_due_schedules(workspace, T0) == []  # a.txt's hash came from the cache, unread
    (watched / "b.txt").write_text("three")
    [fire] = fire_due_schedules(workspace, T0 + timedelta(seconds=1))
    assert fire.run_id is not None
    finish(workspace, fire.run_id)


def test_disable_stops_firing_and_enable_owes_nothing_for_the_disabled_time(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    schedule(workspace, tmp_path, "paused")
    assert not set_enabled(workspace, "paused", False).enabled
    assert fire_due_schedules(workspace, datetime(2027, 1, 4, 12, 0, 10, tzinfo=UTC)) == []
    enabled = set_enabled(workspace, "paused", True, now=datetime(2027, 1, 4, 12, 30, tzinfo=UTC))
    assert enabled.next_fire_at == datetime(2027, 1, 4, 13, tzinfo=UTC)
    assert fire_due_schedules(workspace, datetime(2027, 1, 4, 12, 40, tzinfo=UTC)) == []


def test_a_deleted_job_file_fails_its_fire_with_the_reason_and_others_still_fire(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    doomed = job_file(tmp_path / "doomed")
    schedule(workspace, tmp_path, "doomed", create_job=doomed)
    schedule(workspace, tmp_path, "healthy")
    doomed.unlink()
    fired = fire_due_schedules(workspace, datetime(2027, 1, 4, 10, 0, 5, tzinfo=UTC))
    by_name = {fire.schedule: fire for fire in fired}
    assert by_name["doomed"].run_id is None
    assert f"job file {doomed} no longer exists: restore it" in (by_name["doomed"].error or "")
    assert "job file" in (workspace.schedule_store.get_schedule("doomed").last_error or "")
    assert by_name["healthy"].run_id is not None
    finish(workspace, by_name["healthy"].run_id)


def test_bad_schedules_are_refused_and_nothing_is_created(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    schedule(workspace, tmp_path, "taken")
    with pytest.raises(AlreadyExists, match="schedule 'taken' already exists"):
        schedule(workspace, tmp_path, "taken")
    with pytest.raises(NotFound, match="not found"):
        schedule(workspace, tmp_path, "no-job", create_job=tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("experiment_name: x\ncommand: python hello.py\ncolour: blue\n")
    with pytest.raises(InvalidValue, match="colour"):
        schedule(workspace, tmp_path, "broken", create_job=broken)
    with pytest.raises(InvalidValue, match="never fires"):
        schedule(workspace, tmp_path, "feb-30", trigger=CronTrigger(expression="0 0 30 2 *"))
    assert [s.name for s in workspace.schedule_store.list_schedules()] == ["taken"]


def test_the_background_loop_fires_a_due_schedule_in_real_time(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    every_minute = RecurrenceTrigger(frequency=Frequency.MINUTE, start_time=now)
    # Created "two minutes ago": its next fire is already due when the loop's round comes.
    create_schedule(
        workspace,
        JobSchedule("loop", every_minute, job_file(tmp_path / "project")),
        now=now - timedelta(minutes=2),
    )
    loop = BackgroundLoop(workspace, interval_s=0.1).start()
    try:
        deadline = time.monotonic() + 60
        while not schedule_details(workspace, "loop").fires:
            assert time.monotonic() < deadline, "the loop never fired the schedule"
            time.sleep(0.1)
    finally:
        loop.stop()
    [fire] = schedule_details(workspace, "loop").fires
    assert fire.run_id is not None
    finish(workspace, fire.run_id)


def test_a_sweep_job_file_fires_a_sweep(workspace: OpenWorkspace, tmp_path: Path) -> None:
    project = tmp_path / "sweep"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    sweep = project / "sweep.yml"
    sweep.write_text(SWEEP.replace("max_total_trials: 3", "max_total_trials: 1"))
    schedule(workspace, tmp_path, "tuning", create_job=sweep)
    [fire] = fire_due_schedules(workspace, datetime(2027, 1, 4, 10, 0, 5, tzinfo=UTC))
    assert fire.run_id is not None
    finish(workspace, fire.run_id)
    parent = workspace.store.get_run(fire.run_id)
    assert parent.experiment_name == "tune"
    assert workspace.store.get_run_data(parent.id).tags[SCHEDULE_TAG] == "tuning"
    assert len(workspace.store.list_runs(parent_id=parent.id)) == 1  # its one trial
