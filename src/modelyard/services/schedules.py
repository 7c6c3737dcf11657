"""Schedules: create from a schedule YAML (Azure's `az ml schedule create -f`), list, show,
enable, disable, delete; and `fire_due_schedules`, one idempotent firing pass.

The job a schedule creates is a REFERENCE to a job file, read again at each fire: any job file
`modelyard job create -f` takes (command, sweep, later pipelines) fires without this module
knowing which files it names (code, requirements, a sweep's trial code), and a nightly job
runs the code as it is that night. The file is loaded and validated when the schedule is
created; if it is gone or broken at a fire, that fire fails with the reason, recorded on the
schedule (`schedule show`), and the loop goes on.

The server's background loop runs the pass (`services/background.py`); an embedded workspace
has no loop, so `modelyard schedule run-due` runs one pass (from cron or a systemd timer).
Each fired job is a normal run tagged `modelyard.schedule` and `modelyard.schedule_fire_time`
(and, fired by a data trigger, `modelyard.schedule_data_version`: `data:NAME:VERSION`).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.data.manifest import HashCache, build_manifest
from modelyard.entities.schedules import (
    CatchUp,
    CronTrigger,
    DataAssetTrigger,
    FolderTrigger,
    RecurrenceTrigger,
    Schedule,
    ScheduleFire,
    Trigger,
    due_fire,
    trigger_from_dict,
    with_start,
)
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.services.job_file import load_job_file, submit_job_file
from modelyard.services.workspaces import OpenWorkspace
from modelyard.services.yaml_file import read_yaml_mapping

if TYPE_CHECKING:
    from modelyard.store.rest_schedules import RestSchedules

_log = logging.getLogger(__name__)
SCHEDULE_TAG = "modelyard.schedule"
FIRE_TIME_TAG = "modelyard.schedule_fire_time"
DATA_VERSION_TAG = "modelyard.schedule_data_version"
KNOWN_FIELDS = {"$schema", "name", "trigger", "create_job", "catch_up", "enabled", "description"}


@dataclass(frozen=True)
class JobSchedule:
    """A schedule to create (the SDK's `modelyard.JobSchedule`, Azure's shape): `create_job`
    is the job file's path."""

    name: str
    trigger: Trigger
    create_job: Path | str
    catch_up: CatchUp | str = CatchUp.ONCE
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trigger": self.trigger.to_dict(),
            "create_job": str(self.create_job),
            "catch_up": str(CatchUp(self.catch_up).value),
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class ScheduleDetails:
    schedule: Schedule
    fires: list[ScheduleFire]

    def to_dict(self) -> dict[str, Any]:
        return {**self.schedule.to_dict(), "fires": [fire.to_dict() for fire in self.fires]}


def load_schedule_file(path: Path) -> JobSchedule:
    """A schedule YAML; `create_job` and a folder trigger's `path` are relative to it."""
    data = read_yaml_mapping(path, "schedule file", "name, trigger and create_job")
    refuse_unknown_fields(f"schedule file {path}", data, KNOWN_FIELDS)
    base = path.absolute().parent
    for field_name in ("name", "trigger", "create_job"):
        if not data.get(field_name):
            raise InvalidValue(
                f"schedule file {path} needs {field_name!r}: add it", field=field_name
            )
    if not isinstance(data["trigger"], dict):
        raise InvalidValue(f"schedule file {path}: 'trigger' must be a mapping with a type")
    trigger = trigger_from_dict(data["trigger"])
    if isinstance(trigger, FolderTrigger):
        trigger = FolderTrigger(path=str((base / trigger.path).absolute()))
    return JobSchedule(
        name=str(data["name"]),
        trigger=trigger,
        create_job=(base / str(data["create_job"])).absolute(),
        catch_up=_catch_up(data.get("catch_up", "once")),
        enabled=bool(data.get("enabled", True)),
    )


def _catch_up(value: Any) -> CatchUp:
    try:
        return CatchUp(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(
            f"unknown catch_up {value!r}: use 'once' (one run for all missed fires) or 'skip'",
            catch_up=str(value),
        ) from None


def create_schedule(
    ws: OpenWorkspace, request: JobSchedule, user: str | None = None, now: datetime | None = None
) -> Schedule:
    """Check everything (trigger, time zone, window, the job file loads) before creating."""
    if ws.server_url is not None:
        return _remote(ws).create(request.to_dict())
    now = now or datetime.now(UTC)
    job_file = Path(request.create_job).absolute()
    _check_job_file(ws, job_file)
    trigger = with_start(request.trigger, now)
    schedule = Schedule(
        name=request.name,
        job_file=str(job_file),
        trigger=trigger,
        catch_up=CatchUp(request.catch_up),
        enabled=request.enabled,
        created_by=user or getpass.getuser(),
        created_at=now,
    ).check()
    baseline = _baseline(ws, trigger, now)  # also refuses an unknown data asset
    next_fire_at, watched = baseline if schedule.enabled else (None, None)
    return ws.schedule_store.create_schedule(
        replace(schedule, next_fire_at=next_fire_at, watched=watched)
    )


def _check_job_file(ws: OpenWorkspace, path: Path) -> None:
    """The job file loads and its job is valid now (any type `job create -f` takes)."""
    try:
        load_job_file(path, ws).validate()
    except (OSError, ValueError) as error:  # unreadable: permissions, a NUL in the path
        raise InvalidValue(
            f"job file {path} cannot be read ({error}): give a readable job YAML",
            path=str(path),
        ) from None


def _folder_hash(ws: OpenWorkspace, path: str) -> str:
    """The folder's content hash, each file unchanged since it was last hashed (size, mtime,
    inode) taken from the workspace's hash cache unread: the loop polls every 2 s."""
    try:
        return build_manifest(Path(path), HashCache.in_cache_dir(ws.cache_dir)).content_hash
    except OSError as error:
        raise InvalidValue(
            f"watched folder {path} cannot be read ({error}): fix its permissions or the path",
            path=path,
        ) from None


def _newest_version(ws: OpenWorkspace, asset: str) -> str:
    """The asset's highest version number, archived ones included (so archiving or restoring
    is no new version). Versions are numbered 1, 2, 3… and never deleted: the count is it."""
    return str(ws.data_store.get_data_asset(asset).version_count)


def _baseline(
    ws: OpenWorkspace, trigger: Trigger, now: datetime
) -> tuple[datetime | None, str | None]:
    """From `now` on: the next fire of a time trigger, the folder's current content hash, the
    data asset's newest version."""
    if isinstance(trigger, CronTrigger | RecurrenceTrigger):
        return trigger.next_after(now), None
    if isinstance(trigger, FolderTrigger):
        return None, _folder_hash(ws, trigger.path)
    return None, _newest_version(ws, trigger.asset)


def list_schedules(ws: OpenWorkspace) -> list[Schedule]:
    if ws.server_url is not None:
        return _remote(ws).list_all()
    return ws.schedule_store.list_schedules()


def schedule_details(ws: OpenWorkspace, name: str) -> ScheduleDetails:
    """The schedule with its recent fires (newest first), each with its run or error."""
    if ws.server_url is not None:
        return ScheduleDetails(*_remote(ws).details(name))
    store = ws.schedule_store
    return ScheduleDetails(store.get_schedule(name), store.list_schedule_fires(name))


def set_enabled(
    ws: OpenWorkspace, name: str, enabled: bool, now: datetime | None = None
) -> Schedule:
    """Disable: no more fires. Enable: fires from now on (none owed for the disabled time)."""
    if ws.server_url is not None:
        return _remote(ws).set_enabled(name, enabled)
    schedule = ws.schedule_store.get_schedule(name)
    baseline = (
        _baseline(ws, schedule.trigger, now or datetime.now(UTC)) if enabled else (None, None)
    )
    return ws.schedule_store.set_schedule_enabled(name, enabled, *baseline)


def delete_schedule(ws: OpenWorkspace, name: str) -> None:
    """The schedule and its fire records; the runs it created stay."""
    if ws.server_url is not None:
        _remote(ws).delete(name)
        return
    ws.schedule_store.delete_schedule(name)


def fire_due_schedules(ws: OpenWorkspace, now: datetime | None = None) -> list[ScheduleFire]:
    """One pass: fire each enabled schedule that is due at `now`, at most once per fire time
    even when several passes race; a schedule's failure never stops the others."""
    if ws.server_url is not None:
        raise InvalidValue(
            f"workspace {ws.workspace.name!r} is served by {ws.server_url}: its server fires"
            " the schedules; run `modelyard schedule run-due` on an embedded workspace only",
        )
    now = now or datetime.now(UTC)
    fired = []
    for schedule in ws.schedule_store.list_schedules():
        if not schedule.enabled:
            continue
        try:
            fire = _fire_if_due(ws, schedule, now)
        except ModelyardError as error:
            _log.warning("schedule %s: %s", schedule.name, error.message)
            continue
        except Exception:  # one schedule's surprise never starves the others of their fires
            _log.exception("schedule %s: firing failed", schedule.name)
            continue
        if fire is not None:
            fired.append(fire)
    return fired


def _fire_if_due(ws: OpenWorkspace, schedule: Schedule, now: datetime) -> ScheduleFire | None:
    claim = _claim_for(ws, schedule, now)
    if claim is None:
        return None
    fire_time, next_fire_at, watched = claim
    if not ws.schedule_store.claim_fire(schedule, fire_time, next_fire_at, watched):
        return None  # another pass moved it first
    if fire_time is None:
        return None  # missed fires skipped
    tags = {}
    if isinstance(schedule.trigger, DataAssetTrigger):
        tags[DATA_VERSION_TAG] = f"data:{schedule.trigger.asset}:{watched}"
    return _create_run(ws, schedule, fire_time, now, tags)


def _claim_for(
    ws: OpenWorkspace, schedule: Schedule, now: datetime
) -> tuple[datetime | None, datetime | None, str | None] | None:
    """(fire time or None, next fire, watched hash or version) to move the schedule to; None:
    not due."""
    trigger = schedule.trigger
    if isinstance(trigger, FolderTrigger | DataAssetTrigger):
        seen = (
            _folder_hash(ws, trigger.path)
            if isinstance(trigger, FolderTrigger)
            else _newest_version(ws, trigger.asset)
        )
        return None if seen == schedule.watched else (now, None, seen)
    if schedule.next_fire_at is None or schedule.next_fire_at > now:
        return None
    due = due_fire(trigger, schedule.next_fire_at, now, schedule.catch_up)
    return due.fire_time, due.next_fire_at, schedule.watched


def _create_run(
    ws: OpenWorkspace,
    schedule: Schedule,
    fire_time: datetime,
    now: datetime,
    tags: dict[str, str],
) -> ScheduleFire:
    store = ws.schedule_store
    try:
        _check_job_file_exists(schedule)
        run = submit_job_file(ws, Path(schedule.job_file), user=schedule.created_by)
        tags = {SCHEDULE_TAG: schedule.name, FIRE_TIME_TAG: fire_time.isoformat(), **tags}
        ws.store.log_batch(run.id, tags=tags)
    except (ModelyardError, OSError) as error:
        message = error.message if isinstance(error, ModelyardError) else str(error)
        reason = f"fire at {fire_time.isoformat()} failed: {message}"
        store.record_fire_outcome(schedule.name, fire_time, None, reason)
        _log.warning("schedule %s: %s", schedule.name, reason)
        return ScheduleFire(schedule.name, fire_time, now, error=reason)
    store.record_fire_outcome(schedule.name, fire_time, run.id, None)
    return ScheduleFire(schedule.name, fire_time, now, run_id=run.id)


def _check_job_file_exists(schedule: Schedule) -> None:
    if not Path(schedule.job_file).is_file():
        raise NotFound(
            f"job file {schedule.job_file} no longer exists: restore it, or delete the schedule"
            f" (`modelyard schedule delete {schedule.name}`)",
            path=schedule.job_file,
        )


def _remote(ws: OpenWorkspace) -> RestSchedules:
    from modelyard.store.rest_schedules import RestSchedules  # httpx only behind a server

    return RestSchedules(ws.rest_store.client)
