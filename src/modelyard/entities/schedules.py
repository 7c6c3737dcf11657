"""Schedules: a job file fired by a trigger, as Azure ML v2's `JobSchedule` has it.

Triggers, and when each fires (all pure: `now` is always passed in, so tests use a fake clock):

- `CronTrigger`: five cron fields in `time_zone` (cronsim). In a spring-forward gap a time that
  does not exist fires at the gap's end (02:30 Berlin on the last Sunday of March: 03:00);
  in a fall-back repeat it fires once, at its first occurrence. An expression no date
  satisfies (`0 0 30 2 *`) is refused when the schedule is created.
- `RecurrenceTrigger`: every `interval` minutes/hours (absolute time), or days/weeks/months
  (wall-clock time in `time_zone`, counted from `start_time`) at the pattern's hours and
  minutes (default: those of `start_time`), weekly on `week_days` (default: `start_time`'s).
  A wall time in a gap or repeat is treated as cron treats it (above). Monthly on a day that a
  month lacks (the 31st in April, the 29th of February in 2027) skips that month, as cron's
  `0 0 31 * *` does, rather than moving the fire to another day.
- `FolderTrigger`: fires when the content hash of a watched folder changes (polled by each
  pass of the loop; unchanged files' hashes come from the workspace's hash cache, unread); the
  hash at creation is the baseline, so creating one does not fire.
- `DataAssetTrigger`: fires when data asset `asset` gets a new version (Azure's
  `type: data`). The highest version number, archived ones included, is kept on the schedule
  as a folder's hash is (`watched`) and compared and swapped by each pass the same way: the
  versions at creation are the baseline, archiving or restoring changes nothing, and versions
  made between two passes fire once, for the newest.

Catch-up (fires missed while no loop ran): `once` fires one run for all of them, `skip` fires
none and waits for the next time. A fire time counts as missed once it is more than
`ON_TIME_GRACE` old when a pass sees it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from modelyard.entities.names import validate_data_name, validate_schedule_name
from modelyard.errors import InvalidValue

ON_TIME_GRACE: Final = timedelta(minutes=1)
# How far ahead a search for the next fire looks before it calls a trigger dead (leap days
# come every 4 years; 8 covers a century's skipped leap year).
_HORIZON: Final = timedelta(days=366 * 8)
_YEARS: Final = (1970, 9000)  # far from datetime's limits, which a search would run into
INTERVAL_MAX: Final = 10_000
_CRON_FIELDS: Final = ("minute", "hour", "day-of-month", "month", "day-of-week")
WEEK_DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class CatchUp(StrEnum):
    ONCE = "once"
    SKIP = "skip"


class Frequency(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidValue(
            f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Berlin'",
            time_zone=str(name),
        ) from None


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive start or end time is wall time in the trigger's zone (as Azure reads it)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class _Window:
    """What cron and recurrence triggers share: the zone and the start/end of their fires."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    time_zone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.time_zone)

    def check_window(self) -> None:
        zone = self.zone
        start, end = _aware(self.start_time, zone), _aware(self.end_time, zone)
        for name, moment in (("start_time", start), ("end_time", end)):
            if moment is not None and not _YEARS[0] <= moment.year <= _YEARS[1]:
                raise InvalidValue(
                    f"{name} {moment.isoformat()} is out of range: use a time in the years"
                    f" {_YEARS[0]} to {_YEARS[1]}",
                    field=name,
                )
        if start is not None and end is not None and end <= start:
            raise InvalidValue(
                f"end_time {end.isoformat()} is not after start_time {start.isoformat()}:"
                " move end_time later, or leave it out",
                end_time=end.isoformat(),
            )

    def _bounded(self, fire: datetime | None) -> datetime | None:
        end = _aware(self.end_time, self.zone)
        if fire is None or (end is not None and fire > end):
            return None
        return fire.astimezone(UTC)

    def _from(self, moment: datetime) -> datetime:
        """The instant the search starts after: `moment`, or just before `start_time`."""
        start = _aware(self.start_time, self.zone)
        if start is not None and start > moment:
            return start - timedelta(microseconds=1)
        return moment


@dataclass(frozen=True)
class CronTrigger(_Window):
    expression: str = ""

    type: ClassVar[str] = "cron"

    def check(self, now: datetime | None = None) -> CronTrigger:
        """Refuse what is wrong in itself, and a trigger with no fire left after `now`."""
        self.check_window()
        _cron(self.expression, datetime(2000, 1, 1, tzinfo=self.zone))
        if self.next_after(now or datetime.now(UTC)) is None:
            raise InvalidValue(
                f"cron expression {self.expression!r} never fires before end_time"
                f" {self.end_time}: move end_time later or change the expression",
                expression=self.expression,
            )
        return self

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire strictly after `moment` (UTC), or None when there is none."""
        after = self._from(moment).astimezone(self.zone)
        # cronsim works to the minute and yields times after its start's minute.
        fire = next(iter(_cron(self.expression, after)), None)
        return self._bounded(fire)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "expression": self.expression, **_window_dict(self)}


def _cron(expression: str, start: datetime) -> Iterator[datetime]:
    text = str(expression).strip()
    fields = text.split()
    if len(fields) != len(_CRON_FIELDS):
        raise InvalidValue(
            f"cron expression {text!r} has {len(fields)} fields: use 5, minute hour"
            " day-of-month month day-of-week (for example '0 2 * * *')",
            expression=text,
        )
    try:
        return _limited(CronSim(text, start), start)
    except CronSimError as error:
        raise InvalidValue(_cron_problem(text, str(error)), expression=text) from None


def _limited(times: Iterator[datetime], start: datetime) -> Iterator[datetime]:
    for fire in times:
        if fire - start > _HORIZON:
            return
        yield fire


def _cron_problem(text: str, reason: str) -> str:
    field_name = reason.removeprefix("Bad ").strip()
    if field_name == "day-of-month" and _parses_with_any_day(text):
        return (
            f"cron expression {text!r} never fires: its day-of-month"
            f" {text.split()[2]!r} never occurs in month {text.split()[3]!r}; fix the day-of-month"
        )
    position = _CRON_FIELDS.index(field_name) if field_name in _CRON_FIELDS else None
    value = f" {text.split()[position]!r}" if position is not None else ""
    return (
        f"cron expression {text!r}: invalid {field_name}{value}; fix that field"
        " (minute 0-59, hour 0-23, day-of-month 1-31, month 1-12, day-of-week 0-7)"
    )


def _parses_with_any_day(text: str) -> bool:
    fields = text.split()
    fields[2] = "*"
    try:
        CronSim(" ".join(fields), datetime(2000, 1, 1))
        return True
    except CronSimError:
        return False


@dataclass(frozen=True)
class RecurrencePattern:
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    week_days: tuple[str, ...] = ()

    def check(self, frequency: Frequency) -> RecurrencePattern:
        _check_numbers("hours", self.hours, 23)
        _check_numbers("minutes", self.minutes, 59)
        for day in self.week_days:
            if day not in WEEK_DAYS:
                raise InvalidValue(
                    f"unknown week day {day!r} in schedule.week_days: use {', '.join(WEEK_DAYS)}",
                    week_day=str(day),
                )
        if frequency in (Frequency.MINUTE, Frequency.HOUR) and self != RecurrencePattern():
            raise InvalidValue(
                f"a recurrence of frequency {frequency.value} takes no schedule (hours, minutes,"
                " week_days): use frequency day, week or month, or leave schedule out",
                frequency=frequency.value,
            )
        if self.week_days and frequency is not Frequency.WEEK:
            raise InvalidValue(
                f"schedule.week_days needs frequency week, not {frequency.value}: set"
                " frequency: week",
                frequency=frequency.value,
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "hours": list(self.hours),
            "minutes": list(self.minutes),
            "week_days": list(self.week_days),
        }


def _check_numbers(name: str, values: Sequence[int], high: int) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise InvalidValue(
                f"schedule.{name} has {value!r}: use whole numbers from 0 to {high}",
                field=name,
            )


@dataclass(frozen=True)
class RecurrenceTrigger(_Window):
    frequency: Frequency = Frequency.DAY
    interval: int = 1
    schedule: RecurrencePattern = field(default_factory=RecurrencePattern)

    type: ClassVar[str] = "recurrence"

    def __post_init__(self) -> None:
        # The SDK's `RecurrenceTrigger(frequency="day")`, as Azure spells it.
        object.__setattr__(self, "frequency", _frequency(self.frequency))

    def check(self, now: datetime | None = None) -> RecurrenceTrigger:
        """Refuse what is wrong in itself, and a trigger with no fire left after `now`."""
        self.check_window()
        if isinstance(self.interval, bool) or not isinstance(self.interval, int):
            raise InvalidValue(f"interval {self.interval!r} is not a whole number: use 1 or more")
        if not 1 <= self.interval <= INTERVAL_MAX:
            raise InvalidValue(
                f"interval {self.interval} is out of range: use a whole number from 1 to"
                f" {INTERVAL_MAX}"
            )
        self.schedule.check(self.frequency)
        start = _aware(self.start_time, self.zone)
        if start is None:
            raise InvalidValue("a recurrence needs a start_time (the schedule sets it)")
        if self.next_after(now or start - timedelta(microseconds=1)) is None:
            raise InvalidValue(
                f"this recurrence never fires before end_time {self.end_time}: move end_time later",
            )
        return self

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire strictly after `moment` (UTC), or None when there is none."""
        start = _aware(self.start_time, self.zone)
        assert start is not None, "check() refuses a recurrence without a start_time"
        after = self._from(moment)
        if self.frequency in (Frequency.MINUTE, Frequency.HOUR):
            return self._bounded(_every(start, after, self._step()))
        for fire in self._wall_fires(start, after):
            if fire > after:
                return self._bounded(fire)
        return None

    def _step(self) -> timedelta:
        unit = timedelta(minutes=1) if self.frequency is Frequency.MINUTE else timedelta(hours=1)
        return unit * self.interval

    def _wall_fires(self, start: datetime, after: datetime) -> Iterator[datetime]:
        """Fires in wall time, from the period holding `after` on, in order."""
        zone = self.zone
        local = start.astimezone(zone)
        hours = sorted(self.schedule.hours or (local.hour,))
        minutes = sorted(self.schedule.minutes or (local.minute,))
        for day in self._days(local.date(), after.astimezone(zone).date()):
            for hour in hours:
                for minute in minutes:
                    fire = wall_time(day, hour, minute, zone)
                    if fire >= start:
                        yield fire

    def _days(self, first: date, around: date) -> Iterator[date]:
        if self.frequency is Frequency.DAY:
            return _every_n_days(first, around, self.interval)
        if self.frequency is Frequency.WEEK:
            days = self.schedule.week_days or (WEEK_DAYS[first.weekday()],)
            return _weekly(first, around, self.interval, {WEEK_DAYS.index(d) for d in days})
        return _monthly(first, around, self.interval)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "frequency": self.frequency.value,
            "interval": self.interval,
            "schedule": self.schedule.to_dict(),
            **_window_dict(self),
        }


def _every(start: datetime, after: datetime, step: timedelta) -> datetime:
    # In UTC: Python adds a timedelta to an aware time as wall time within its own zone.
    start, after = start.astimezone(UTC), after.astimezone(UTC)
    if after < start:
        return start
    return start + step * ((after - start) // step + 1)


def _every_n_days(first: date, around: date, interval: int) -> Iterator[date]:
    skipped = max(0, (around - first).days // interval - 1)
    day = first + timedelta(days=skipped * interval)
    while day - around <= _HORIZON:
        yield day
        day += timedelta(days=interval)


def _weekly(first: date, around: date, interval: int, weekdays: set[int]) -> Iterator[date]:
    monday = first - timedelta(days=first.weekday())
    for week in _every_n_days(monday, around, 7 * interval):
        for offset in sorted(weekdays):
            yield week + timedelta(days=offset)


def _monthly(first: date, around: date, interval: int) -> Iterator[date]:
    months_since = (around.year - first.year) * 12 + around.month - first.month
    k = max(0, months_since // interval - 1)
    while k * interval <= months_since + 12 * 8:
        year, month = divmod(first.month - 1 + k * interval, 12)
        year += first.year
        if first.day <= calendar.monthrange(year, month + 1)[1]:  # else: that month is skipped
            yield date(year, month + 1, first.day)
        k += 1


def wall_time(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of a wall time in `zone`: in a spring-forward gap, the gap's end (as cron
    does); in a fall-back repeat, its first occurrence."""
    naive = datetime(day.year, day.month, day.day, hour, minute)
    while True:
        aware = naive.replace(tzinfo=zone, fold=0)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return aware
        naive += timedelta(minutes=1)  # inside a gap: the first minute that exists


def _window_dict(trigger: _Window) -> dict[str, Any]:
    return {
        "start_time": _iso(trigger.start_time),
        "end_time": _iso(trigger.end_time),
        "time_zone": trigger.time_zone,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class FolderTrigger:
    path: str = ""

    type: ClassVar[str] = "folder"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "path": self.path}


@dataclass(frozen=True)
class DataAssetTrigger:
    """A new version of data asset `asset` (see this module's docstring)."""

    asset: str = ""

    type: ClassVar[str] = "data"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "asset": self.asset}


TimeTrigger = CronTrigger | RecurrenceTrigger
Trigger = CronTrigger | RecurrenceTrigger | FolderTrigger | DataAssetTrigger
TRIGGER_TYPES: Final = ("cron", "recurrence", "folder", "data")
_TRIGGER_FIELDS: Final = {
    "cron": {"type", "expression", "start_time", "end_time", "time_zone"},
    "recurrence": {
        "type",
        "frequency",
        "interval",
        "schedule",
        "start_time",
        "end_time",
        "time_zone",
    },
    "folder": {"type", "path"},
    "data": {"type", "asset"},
}


def trigger_from_dict(data: Mapping[str, Any]) -> Trigger:
    """A trigger from its YAML/JSON form (Azure's), refusing unknown types and fields."""
    kind = str(data.get("type", "")).strip().lower()
    if kind not in _TRIGGER_FIELDS:
        raise InvalidValue(
            f"unknown trigger type {data.get('type')!r}: use one of {', '.join(TRIGGER_TYPES)}",
            type=str(data.get("type")),
        )
    unknown = sorted(set(data) - _TRIGGER_FIELDS[kind])
    if unknown:
        raise InvalidValue(
            f"unknown field {unknown[0]!r} in a {kind} trigger: use"
            f" {', '.join(sorted(_TRIGGER_FIELDS[kind]))}",
            field=unknown[0],
        )
    if kind == "folder":
        return FolderTrigger(path=_text(data, "path"))
    if kind == "data":
        return DataAssetTrigger(asset=_text(data, "asset"))
    start, end = _moment(data, "start_time"), _moment(data, "end_time")
    zone = str(data.get("time_zone") or "UTC")
    if kind == "cron":
        expression = _text(data, "expression")
        return CronTrigger(start, end, zone, expression=expression)
    return RecurrenceTrigger(
        start,
        end,
        zone,
        frequency=_frequency(data.get("frequency")),
        interval=data.get("interval", 1),
        schedule=_pattern(data.get("schedule") or {}),
    )


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"the trigger needs {name!r}: add it", field=name)
    return value.strip()


def _moment(data: Mapping[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(
            f"{name} {value!r} is not a date and time: use ISO 8601, as 2027-01-31T02:00:00",
            field=name,
        ) from None


def _frequency(value: Any) -> Frequency:
    try:
        return Frequency(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(
            f"unknown frequency {value!r}: use one of {', '.join(f.value for f in Frequency)}",
            frequency=str(value),
        ) from None


def _pattern(data: Any) -> RecurrencePattern:
    if not isinstance(data, Mapping):
        raise InvalidValue(
            "the recurrence's schedule must be a mapping of hours, minutes, week_days"
        )
    unknown = sorted(set(data) - {"hours", "minutes", "week_days"})
    if unknown:
        raise InvalidValue(
            f"unknown field {unknown[0]!r} in the recurrence's schedule: use hours, minutes,"
            " week_days",
            field=unknown[0],
        )
    return RecurrencePattern(
        hours=tuple(_listed(data.get("hours"))),
        minutes=tuple(_listed(data.get("minutes"))),
        week_days=tuple(str(day).strip().lower() for day in _listed(data.get("week_days"))),
    )


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Schedule:
    """A job file fired by a trigger. `job_file` is a reference (the file and what it names are
    read at each fire), unless the job was uploaded with the schedule (created through a
    server): then `job_sha256` names the stored archive of the job as it was at creation
    (`created_at`) by its content hash, and `job_file` is only the file's name as its client
    had it. `watched` is a folder trigger's last content hash, or a data trigger's
    highest version number seen."""

    name: str
    job_file: str
    trigger: Trigger
    created_by: str
    created_at: datetime
    catch_up: CatchUp = CatchUp.ONCE
    enabled: bool = True
    next_fire_at: datetime | None = None
    last_fired_at: datetime | None = None
    last_error: str | None = None
    watched: str | None = None
    job_sha256: str | None = None

    def describe_job(self) -> str:
        """What each fire submits, in words: the stored snapshot, or the file read then."""
        if self.job_sha256 is None:
            return f"{self.job_file} (read at each fire)"
        return (
            f"uploaded {self.job_file} (snapshot {self.created_at.isoformat()},"
            f" sha256 {self.job_sha256})"
        )

    def check(self) -> Schedule:
        validate_schedule_name(self.name)
        trigger = self.trigger
        if isinstance(trigger, DataAssetTrigger):
            validate_data_name(trigger.asset)
        if isinstance(trigger, CronTrigger | RecurrenceTrigger):
            trigger.check(self.created_at)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "job_file": self.job_file,
            "trigger": self.trigger.to_dict(),
            "catch_up": self.catch_up.value,
            "enabled": self.enabled,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "next_fire_at": _iso(self.next_fire_at),
            "last_fired_at": _iso(self.last_fired_at),
            "last_error": self.last_error,
            "watched": self.watched,
            "job_sha256": self.job_sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        return cls(
            name=data["name"],
            job_file=data["job_file"],
            trigger=trigger_from_dict(data["trigger"]),
            catch_up=CatchUp(data["catch_up"]),
            enabled=bool(data["enabled"]),
            created_by=data["created_by"],
            created_at=datetime.fromisoformat(data["created_at"]),
            next_fire_at=_parsed(data.get("next_fire_at")),
            last_fired_at=_parsed(data.get("last_fired_at")),
            last_error=data.get("last_error"),
            watched=data.get("watched"),
            job_sha256=data.get("job_sha256"),
        )


def _parsed(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class ScheduleFire:
    """One fire of a schedule: its (unique) fire time, and the run it created or why not."""

    schedule: str
    fire_time: datetime
    fired_at: datetime
    run_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "fire_time": self.fire_time.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "run_id": self.run_id,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleFire:
        return cls(
            schedule=data["schedule"],
            fire_time=datetime.fromisoformat(data["fire_time"]),
            fired_at=datetime.fromisoformat(data["fired_at"]),
            run_id=data.get("run_id"),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class DueFire:
    """What a pass does with a time-triggered schedule at `now`: fire at `fire_time` (None: do
    not fire) and move its next fire to `next_fire_at` (None: it never fires again)."""

    fire_time: datetime | None
    next_fire_at: datetime | None


def due_fire(
    trigger: TimeTrigger, next_fire_at: datetime, now: datetime, catch_up: CatchUp
) -> DueFire:
    """The fire a pass owes at `now` for a schedule due at `next_fire_at` (<= now): under
    `once`, the latest due time (one run for all missed); under `skip`, that time only if it is
    still on time (within `ON_TIME_GRACE`)."""
    latest = _latest_due(trigger, next_fire_at, now)
    following = trigger.next_after(latest)
    if catch_up is CatchUp.SKIP and now - latest > ON_TIME_GRACE:
        return DueFire(fire_time=None, next_fire_at=following)
    return DueFire(fire_time=latest, next_fire_at=following)


def _latest_due(trigger: TimeTrigger, due_at: datetime, now: datetime) -> datetime:
    """The last fire at or before `now`, from `due_at` on. Searched back from `now` in growing
    windows, so that a month's downtime of a minute cron costs a few dozen steps, not 43,200."""
    window = timedelta(hours=1)
    while now - window > due_at:
        candidate = trigger.next_after(now - window)
        if candidate is not None and candidate <= now:
            return _walk(trigger, candidate, now)
        window *= 8
    return _walk(trigger, due_at, now)


def _walk(trigger: TimeTrigger, fire: datetime, now: datetime) -> datetime:
    following = trigger.next_after(fire)
    while following is not None and following <= now:
        fire, following = following, trigger.next_after(following)
    return fire


def with_start(trigger: Trigger, moment: datetime) -> Trigger:
    """A recurrence counts its periods from a start: the schedule's creation when not given."""
    if isinstance(trigger, RecurrenceTrigger) and trigger.start_time is None:
        zone = zone_of(trigger.time_zone)
        return replace(trigger, start_time=moment.astimezone(zone).replace(second=0, microsecond=0))
    return trigger
