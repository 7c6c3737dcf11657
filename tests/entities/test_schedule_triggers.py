"""When triggers fire, on a fake clock: cron and recurrence across DST gaps and repeats, month
ends, leap days, start and end times; the catch-up policies; and the one-line refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from modelyard.entities.schedules import (
    CatchUp,
    CronTrigger,
    DataAssetTrigger,
    Frequency,
    RecurrencePattern,
    RecurrenceTrigger,
    Schedule,
    due_fire,
    trigger_from_dict,
)
from modelyard.errors import InvalidValue

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the fake clock's "now" when a trigger is checked


def fires(trigger: CronTrigger | RecurrenceTrigger, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment: datetime | None = after
    for _ in range(count):
        assert moment is not None
        moment = trigger.next_after(moment)
        if moment is None:
            break
        found.append(moment)
    return found


def local(moments: list[datetime], zone: ZoneInfo) -> list[str]:
    return [moment.astimezone(zone).isoformat() for moment in moments]


def test_cron_in_berlin_fires_at_the_gaps_end_on_spring_forward_and_once_on_fall_back() -> None:
    trigger = CronTrigger(expression="30 2 * * *", time_zone="Europe/Berlin").check(NOW)
    spring = fires(trigger, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    # 02:30 does not exist on 29 March 2026: the fire comes when the clock jumps to 03:00.
    assert local(spring, BERLIN) == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    autumn = fires(trigger, datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    # 02:30 happens twice on 25 October: one fire, at the first.
    assert local(autumn, BERLIN) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_hourly_cron_in_new_york_skips_no_hour_and_repeats_none() -> None:
    trigger = CronTrigger(expression="0 * * * *", time_zone="America/New_York").check(NOW)
    spring = fires(trigger, datetime(2027, 3, 14, 5, 30, tzinfo=UTC), 3)  # 00:30 EST
    assert local(spring, NEW_YORK) == [
        "2027-03-14T01:00:00-05:00",
        "2027-03-14T03:00:00-04:00",  # 02:00 does not exist
        "2027-03-14T04:00:00-04:00",
    ]
    assert [b - a for a, b in pairwise(spring)] == [timedelta(hours=1)] * 2


def test_cron_on_the_29th_of_february_fires_in_leap_years_only() -> None:
    trigger = CronTrigger(expression="0 0 29 2 *").check(NOW)
    assert fires(trigger, datetime(2026, 1, 1, tzinfo=UTC), 2) == [
        datetime(2028, 2, 29, tzinfo=UTC),
        datetime(2032, 2, 29, tzinfo=UTC),
    ]


def test_cron_on_the_31st_skips_months_without_one() -> None:
    trigger = CronTrigger(expression="0 6 31 * *").check(NOW)
    found = fires(trigger, datetime(2027, 3, 1, tzinfo=UTC), 3)
    assert [moment.date().isoformat() for moment in found] == [
        "2027-03-31",
        "2027-05-31",
        "2027-07-31",
    ]


def test_cron_keeps_within_start_and_end_time() -> None:
    trigger = CronTrigger(
        expression="0 12 * * *",
        start_time=datetime(2027, 1, 10, tzinfo=UTC),
        end_time=datetime(2027, 1, 12, 12, tzinfo=UTC),
    ).check(NOW)
    assert fires(trigger, datetime(2027, 1, 1, tzinfo=UTC), 5) == [
        datetime(2027, 1, 10, 12, tzinfo=UTC),
        datetime(2027, 1, 11, 12, tzinfo=UTC),
        datetime(2027, 1, 12, 12, tzinfo=UTC),
    ]


def test_daily_recurrence_in_berlin_follows_wall_time_across_both_transitions() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.DAY,
        schedule=RecurrencePattern(hours=(2,), minutes=(30,)),
        start_time=datetime(2026, 3, 1),
        time_zone="Europe/Berlin",
    ).check(NOW)
    spring = fires(trigger, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert local(spring, BERLIN) == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    autumn = fires(trigger, datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    assert local(autumn, BERLIN) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_minute_recurrence_counts_absolute_time_through_the_new_york_repeat() -> None:
    trigger = RecurrenceTrigger(
        frequency="minute",  # type: ignore[arg-type]  # as the SDK user writes it
        interval=30,
        start_time=datetime(2027, 11, 7, 0, 0, tzinfo=NEW_YORK),
        time_zone="America/New_York",
    ).check(NOW)
    found = fires(trigger, datetime(2027, 11, 7, 5, 0, tzinfo=UTC), 4)  # 01:00 EDT
    assert [b - a for a, b in pairwise(found)] == [timedelta(minutes=30)] * 3
    # 01:30 happens twice, and fires twice: two instants an hour apart.
    assert local(found, NEW_YORK)[:3] == [
        "2027-11-07T01:30:00-04:00",
        "2027-11-07T01:00:00-05:00",
        "2027-11-07T01:30:00-05:00",
    ]


def test_weekly_recurrence_every_second_week_on_its_days() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.WEEK,
        interval=2,
        schedule=RecurrencePattern(hours=(9,), minutes=(0,), week_days=("monday", "friday")),
        start_time=datetime(2027, 1, 4, tzinfo=UTC),  # a Monday
    ).check(NOW)
    found = fires(trigger, datetime(2027, 1, 1, tzinfo=UTC), 4)
    assert [moment.date().isoformat() for moment in found] == [
        "2027-01-04",
        "2027-01-08",
        "2027-01-18",
        "2027-01-22",
    ]


def test_monthly_recurrence_from_the_31st_skips_shorter_months() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.MONTH, start_time=datetime(2027, 1, 31, 2, tzinfo=UTC)
    ).check(NOW)
    found = fires(trigger, datetime(2027, 1, 31, 3, tzinfo=UTC), 3)
    assert [moment.date().isoformat() for moment in found] == [
        "2027-03-31",
        "2027-05-31",
        "2027-07-31",
    ]


def test_monthly_recurrence_from_a_leap_day_fires_on_leap_days() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.MONTH, interval=12, start_time=datetime(2028, 2, 29, tzinfo=UTC)
    ).check(NOW)
    found = fires(trigger, datetime(2028, 3, 1, tzinfo=UTC), 1)
    assert found == [datetime(2032, 2, 29, tzinfo=UTC)]


def test_recurrence_stops_at_its_end_time() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.HOUR,
        start_time=datetime(2027, 1, 1, tzinfo=UTC),
        end_time=datetime(2027, 1, 1, 2, tzinfo=UTC),
    ).check(NOW)
    assert fires(trigger, datetime(2026, 12, 31, tzinfo=UTC), 5) == [
        datetime(2027, 1, 1, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, 2, tzinfo=UTC),
    ]


def test_catch_up_once_fires_the_latest_missed_time_and_skip_fires_none() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.HOUR, start_time=datetime(2027, 1, 1, tzinfo=UTC)
    ).check(NOW)
    due_at, now = datetime(2027, 1, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, 5, 20, tzinfo=UTC)
    once = due_fire(trigger, due_at, now, CatchUp.ONCE)
    assert once.fire_time == datetime(2027, 1, 1, 5, tzinfo=UTC)
    assert once.next_fire_at == datetime(2027, 1, 1, 6, tzinfo=UTC)
    skip = due_fire(trigger, due_at, now, CatchUp.SKIP)
    assert skip.fire_time is None
    assert skip.next_fire_at == datetime(2027, 1, 1, 6, tzinfo=UTC)
    on_time = due_fire(trigger, due_at, due_at + timedelta(seconds=5), CatchUp.SKIP)
    assert on_time.fire_time == due_at  # not missed: due just now


@pytest.mark.parametrize(
    ("expression", "down_for"),
    [("* * * * *", timedelta(days=400)), ("0 3 * * 1", timedelta(days=3000))],
)
def test_catch_up_after_a_long_downtime_finds_the_latest_missed_fire(
    expression: str, down_for: timedelta
) -> None:
    trigger = CronTrigger(expression=expression, time_zone="Europe/Berlin").check(NOW)
    first = trigger.next_after(NOW)
    assert first is not None
    now = first + down_for
    due = due_fire(trigger, first, now, CatchUp.ONCE)
    assert due.fire_time is not None and due.next_fire_at is not None
    # The latest missed time: no fire lies between it and now, and the next one is after now.
    assert due.fire_time <= now < due.next_fire_at
    assert trigger.next_after(due.fire_time) == due.next_fire_at


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 0 30 2 *", "never fires: its day-of-month '30' never occurs in month '2'"),
        ("61 * * * *", "invalid minute '61'"),
        ("0 25 * * *", "invalid hour '25'"),
        ("0 0 * 13 *", "invalid month '13'"),
        ("0 0 * * 9", "invalid day-of-week '9'"),
        ("0 0 * *", "has 4 fields: use 5"),
    ],
)
def test_a_bad_cron_is_refused_in_one_line_naming_the_field(expression: str, words: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        CronTrigger(expression=expression).check(NOW)
    assert words in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            {"type": "cron", "expression": "0 2 * * *", "time_zone": "Mars/Olympus"},
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            {
                "type": "cron",
                "expression": "0 2 * * *",
                "start_time": "2027-02-01T00:00:00",
                "end_time": "2027-01-01T00:00:00",
            },
            "is not after start_time",
        ),
        (
            {
                "type": "cron",
                "expression": "0 2 1 1 *",
                "start_time": "2027-01-02",
                "end_time": "2027-12-31",
            },
            "never fires before end_time",
        ),
        ({"type": "recurrence", "frequency": "fortnight"}, "unknown frequency 'fortnight'"),
        (
            {"type": "recurrence", "frequency": "hour", "schedule": {"hours": [2]}},
            "takes no schedule",
        ),
        (
            {"type": "recurrence", "frequency": "day", "schedule": {"hours": [24]}},
            "schedule.hours has 24",
        ),
        ({"type": "recurrence", "frequency": "day", "interval": 0}, "interval 0 is out of range"),
        ({"type": "recurrence", "frequency": "day", "interval": 10**30}, "is out of range"),
        (
            {"type": "cron", "expression": "0 2 * * *", "start_time": "9999-12-31T23:59:00"},
            "start_time 9999-12-31T23:59:00+00:00 is out of range",
        ),
        ({"type": "hourly"}, "unknown trigger type 'hourly'"),
        ({"type": "data", "name": "flowers"}, "unknown field 'name' in a data trigger"),
        ({"type": "data"}, "the trigger needs 'asset'"),
        ({"type": "data", "asset": "a/b"}, "data asset"),
        ({"type": "cron", "expresion": "0 2 * * *"}, "unknown field 'expresion'"),
    ],
)
def test_bad_triggers_are_refused_in_one_line(data: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        trigger = trigger_from_dict(data)
        Schedule(
            name="nightly",
            job_file="job.yml",
            trigger=trigger
            if not isinstance(trigger, RecurrenceTrigger) or trigger.start_time
            else _started(trigger),
            created_by="ana",
            created_at=NOW,
        ).check()
    assert words in caught.value.message
    assert "\n" not in caught.value.message


def _started(trigger: RecurrenceTrigger) -> RecurrenceTrigger:
    from dataclasses import replace

    return replace(trigger, start_time=datetime(2027, 1, 1, tzinfo=UTC))


def test_a_trigger_round_trips_through_its_dict() -> None:
    trigger = RecurrenceTrigger(
        frequency=Frequency.WEEK,
        interval=2,
        schedule=RecurrencePattern(hours=(9,), minutes=(0, 30), week_days=("monday",)),
        start_time=datetime(2027, 1, 4, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
    )
    assert trigger_from_dict(trigger.to_dict()) == trigger
    flowers = trigger_from_dict({"type": "data", "asset": "flowers"})
    assert flowers == DataAssetTrigger(asset="flowers")
    assert trigger_from_dict(flowers.to_dict()) == flowers
