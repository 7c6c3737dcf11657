"""Schedules: create from a schedule YAML (Azure's `az ml schedule create -f`), list, show,
enable, disable, delete; and `fire_due_schedules`, one idempotent firing pass.

In an embedded workspace, the job a schedule creates is a REFERENCE to a job file, read again
at each fire: any job file `modelyard job create -f` takes (command, sweep, pipeline) fires
without this module knowing which files it names (code, requirements, a sweep's trial code),
and a nightly job runs the code as it is that night. The file is loaded and validated when the
schedule is created; if it is gone or broken at a fire, that fire fails with the reason,
recorded on the schedule (`schedule show`), and the loop goes on.

In a workspace behind a server, the server's disk is not the client's, so the client packs the job
file's job as `job create -f` sends it and uploads it with the schedule; the server stores that
archive and each fire submits a copy of it: a SNAPSHOT of creation time, which later edits of the
files do not change (delete the schedule and create it again to change it); its `@latest` data
inputs, kept unbound, are bound by the server at each fire. `services/schedule_jobs.py` says how it
is kept.

The server's background loop runs the pass (`services/background.py`); an embedded workspace
has no loop, so `modelyard schedule run-due` runs one pass (from cron or a systemd timer).
Each fired job is a normal run tagged `modelyard.schedule` and `modelyard.schedule_fire_time`
(and, fired by a data trigger, `modelyard.schedule_data_version`: `data:NAME:VERSION`).
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from modelyard.data.manifest import HashCache, build_manifest
from modelyard.entities import Run
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
from modelyard.services import job_upload
from modelyard.services.job_file import load_job_file, queued_job_of, submit_job_file
from modelyard.services.jobs import packed_for_server
from modelyard.services.schedule_jobs import (
    SCHEDULE_FIELD,
    opened_stored_job,
    remove_stored_job,
    stored_job,
)
from modelyard.services.upload_archive import upload_refusal
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
    return job_schedule_of(data, f"schedule file {path}", base=path.absolute().parent)


def job_schedule_of(data: Mapping[str, Any], where: str, base: Path | None = None) -> JobSchedule:
    """The one set of rules for a schedule's fields, wherever they come from (a schedule YAML,
    an uploaded job's `job.json`, the admin's `POST /schedules`): no unknown field, the
    required ones there, each of its type; each refusal one line naming `where`. `base`: what
    the job file's and a folder trigger's relative paths are relative to (None: kept so)."""
    refuse_unknown_fields(where, data, KNOWN_FIELDS)
    for field_name in ("name", "trigger", "create_job"):
        if not data.get(field_name):
            raise InvalidValue(f"{where} needs {field_name!r}: add it", field=field_name)
    name, trigger, job_file = data["name"], data["trigger"], data["create_job"]
    enabled = data.get("enabled", True)
    _require(isinstance(name, str), where, "name", name, "text (in YAML, quote it)")
    _require(isinstance(trigger, dict), where, "trigger", trigger, "a mapping with a type")
    _require(isinstance(job_file, str), where, "create_job", job_file, "a job file's path")
    _require(isinstance(enabled, bool), where, "enabled", enabled, "true or false")
    parsed = trigger_from_dict(trigger)
    if base is not None:
        job_file = (base / job_file).absolute()
        if isinstance(parsed, FolderTrigger):
            parsed = FolderTrigger(path=str((base / parsed.path).absolute()))
    return JobSchedule(
        name=name,
        trigger=parsed,
        create_job=job_file,
        catch_up=_catch_up(data.get("catch_up", "once")),
        enabled=enabled,
    )


def _require(ok: bool, where: str, field_name: str, value: Any, wanted: str) -> None:
    if not ok:
        raise InvalidValue(
            f"{where}: {field_name!r} is {str(value)[:80]!r}, not {wanted}: fix it",
            field=field_name,
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
    """Check everything (trigger, time zone, window, the job file loads) before creating.
    Behind a server, the job file's job is uploaded with the schedule: the schedule fires
    that snapshot, not the file as it will be (the module's docstring says why)."""
    now = now or datetime.now(UTC)
    job_file = Path(request.create_job).absolute()
    if ws.server_url is not None:
        _refuse_folder_trigger(request.trigger, ws.server_url)  # the server's check, before packing
        _schedule_of(request, job_file.name, user or getpass.getuser(), now)
        return _create_remote(ws, request, job_file)
    with _reading_job_file(job_file):
        load_job_file(job_file, ws).validate()
    schedule = _schedule_of(request, str(job_file), user or getpass.getuser(), now)
    return _create_checked(ws, schedule)


def create_uploaded_schedule(
    ws: OpenWorkspace, archive: IO[bytes], user: str, now: datetime | None = None
) -> Schedule:
    """A schedule with its job uploaded (`schedule_jobs`): the archive is checked whole and its
    job validated, as a job upload is, and the schedule its `job.json` describes too, before
    the archive is stored and the schedule created; a failure leaves neither behind."""
    now = now or datetime.now(UTC)
    with job_upload.received_job(ws, archive) as received:
        received.job.validate()
        request, job_file = _uploaded_request(received.description)
    schedule = _schedule_of(request, job_file, user, now)
    ws.schedule_store.refuse_taken_schedule_name(schedule.name)  # before storing anything
    with stored_job(ws, archive) as stored:
        return _create_checked(
            ws, replace(schedule, job_sha256=stored.sha256), stored.ensure_stored
        )


def _schedule_of(request: JobSchedule, job_file: str, user: str, now: datetime) -> Schedule:
    """The schedule to create, checked (its name, its trigger's expression and window)."""
    return Schedule(
        name=request.name,
        job_file=job_file,
        trigger=with_start(request.trigger, now),
        catch_up=CatchUp(request.catch_up),
        enabled=request.enabled,
        created_by=user,
        created_at=now,
    ).check()


def _create_checked(
    ws: OpenWorkspace, schedule: Schedule, check_job: Callable[[], None] = lambda: None
) -> Schedule:
    # The baseline also refuses an unknown data asset.
    baseline = _baseline(ws, schedule.trigger, schedule.created_at)
    next_fire_at, watched = baseline if schedule.enabled else (None, None)
    return ws.schedule_store.create_schedule(
        replace(schedule, next_fire_at=next_fire_at, watched=watched), check_job
    )


def _create_remote(ws: OpenWorkspace, request: JobSchedule, job_file: Path) -> Schedule:
    """The job file's job packed as `job create -f` sends it, the schedule in its job.json."""
    with _reading_job_file(job_file):
        job = queued_job_of(ws, load_job_file(job_file, ws), keep_latest=True)
    fields = {**request.to_dict(), "create_job": job_file.name}
    # `@latest` data stays so in the snapshot: the server binds it at each fire.
    with packed_for_server(ws, job, extra={SCHEDULE_FIELD: fields}, keep_latest=True) as archive:
        return _remote(ws).create_with_job(archive)


@contextmanager
def _reading_job_file(path: Path) -> Iterator[None]:
    """An unreadable job file (permissions, a NUL in the path) refused in one line."""
    try:
        yield
    except (OSError, ValueError) as error:
        raise InvalidValue(
            f"job file {path} cannot be read ({error}): give a readable job YAML",
            path=str(path),
        ) from None


def _uploaded_request(description: dict[str, Any]) -> tuple[JobSchedule, str]:
    """The schedule sent in an uploaded job's job.json, and the job file's name there."""
    fields = description.get(SCHEDULE_FIELD)
    if not isinstance(fields, dict):
        raise _bad_upload(f"job.json has no {SCHEDULE_FIELD!r} object")
    request = job_schedule_of(fields, f"the uploaded job.json's {SCHEDULE_FIELD!r}")
    _refuse_folder_trigger(request.trigger, "this server")
    return request, Path(request.create_job).name


def _refuse_folder_trigger(trigger: Trigger, server: str) -> None:
    """A folder trigger would watch a folder on the server's disk, which only an admin may
    name (`POST /schedules` with paths there): an uploaded schedule watches data assets."""
    if isinstance(trigger, FolderTrigger):
        raise InvalidValue(
            f"a folder trigger would watch {trigger.path} on the machine of {server}, not"
            " yours: make the folder a data asset (`modelyard data create NAME --path ...`)"
            " and use a data trigger ({type: data, asset: NAME}) instead",
            path=trigger.path,
        )


_bad_upload = upload_refusal(
    "schedule upload", "create schedules with the Modelyard SDK or CLI of the server's version"
)


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
    """The schedule, its fire records and its uploaded job; the runs it created stay."""
    if ws.server_url is not None:
        _remote(ws).delete(name)
        return
    schedule = ws.schedule_store.get_schedule(name)
    ws.schedule_store.delete_schedule(name)
    # After the row: a crash in between leaves an unnamed file, never a schedule without its job.
    remove_stored_job(ws, schedule)


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
        run = _submit_fired_job(ws, schedule)
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


def _submit_fired_job(ws: OpenWorkspace, schedule: Schedule) -> Run:
    """A copy of the uploaded job, or the job file as it is now."""
    if schedule.job_sha256 is not None:
        with opened_stored_job(ws, schedule) as archive:
            return job_upload.submit_uploaded(ws, archive, user=schedule.created_by)
    _check_job_file_exists(schedule)
    return submit_job_file(ws, Path(schedule.job_file), user=schedule.created_by)


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
