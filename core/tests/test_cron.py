"""Cron expressions: parsing, errors, and next fire times computed from fixed datetimes, across
DST changes in Oslo and New York."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from strm.kernel.errors import ConfigurationError
from strm.runtime.cron import CronSchedule

OSLO = ZoneInfo("Europe/Oslo")
NEW_YORK = ZoneInfo("America/New_York")


def fire_times(expression: str, start: datetime, count: int, tz: tzinfo = UTC) -> list[str]:
    """The next ``count`` fire times after ``start``, as ISO strings with their UTC offsets."""
    schedule = CronSchedule(expression)
    times = []
    moment = start
    for _ in range(count):
        moment = schedule.next_after(moment, tz)
        times.append(moment.isoformat())
    return times


# -- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "minutes", "hours", "days", "months", "weekdays"),
    [
        ("* * * * *", range(60), range(24), range(1, 32), range(1, 13), range(7)),
        ("*/15 0 1 1 0", [0, 15, 30, 45], [0], [1], [1], [0]),
        ("1-10/3 2,4 5-7 */4 1-5", [1, 4, 7, 10], [2, 4], [5, 6, 7], [1, 5, 9], [1, 2, 3, 4, 5]),
        ("50/5 23 31 dec SAT", [50, 55], [23], [31], [12], [6]),
        ("0 0 * jan-MAR,nov mon-fri", [0], [0], range(1, 32), [1, 2, 3, 11], [1, 2, 3, 4, 5]),
        ("0 0 * * 7", [0], [0], range(1, 32), range(1, 13), [0]),
        ("0 0 * * 5-7", [0], [0], range(1, 32), range(1, 13), [0, 5, 6]),
        ("0 0 * * sun-sat", [0], [0], range(1, 32), range(1, 13), range(7)),
    ],
)
def test_fields(
    expression: str,
    minutes: range | list[int],
    hours: range | list[int],
    days: range | list[int],
    months: range | list[int],
    weekdays: range | list[int],
) -> None:
    schedule = CronSchedule(expression)
    assert schedule.minutes == frozenset(minutes)
    assert schedule.hours == frozenset(hours)
    assert schedule.days == frozenset(days)
    assert schedule.months == frozenset(months)
    assert schedule.weekdays == frozenset(weekdays)


@pytest.mark.parametrize(
    ("shortcut", "expression"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@HOURLY", "0 * * * *"),
    ],
)
def test_shortcuts(shortcut: str, expression: str) -> None:
    start = datetime(2024, 5, 17, 13, 21, tzinfo=UTC)
    assert fire_times(shortcut, start, 3) == fire_times(expression, start, 3)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("* * * * * *", "got 6"),
        ("", "got 0"),
        ("60 * * * *", "minute field '60': 60 is out of range 0-59"),
        ("* 24 * * *", "hour field '24': 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month field '0': 0 is out of range 1-31"),
        ("* * * 13 *", "month field '13': 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week field '8': 8 is out of range 0-7"),
        ("* * * foo *", "month field 'foo': 'foo' is not a number or a name (jan, feb,"),
        ("* * * * mon-xyz", "day-of-week field 'mon-xyz': 'xyz' is not a number or a name"),
        ("*/0 * * * *", "minute field '*/0': step '0' of '*/0' is not a positive number"),
        ("*/x * * * *", "step 'x' of '*/x' is not a positive number"),
        ("10-5 * * * *", "minute field '10-5': range '10-5' runs backwards"),
        ("1,,2 * * * *", "minute field '1,,2': has an empty list item"),
        ("-1 * * * *", "minute field '-1': '' is not a number"),
        ("0 0 30 feb *", "day-of-month field '30' never occurs in month field 'feb'"),
        ("0 0 31 4,jun,9,11 *", "day-of-month field '31' never occurs in month field"),
        ("@reboot", "unknown shortcut; use one of @yearly"),
    ],
)
def test_invalid_expressions_name_the_expression_and_the_field(
    expression: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        CronSchedule(expression)
    assert str(info.value).startswith(f"invalid crontab expression {expression!r}: ")
    assert message in str(info.value)


def test_a_non_string_expression() -> None:
    with pytest.raises(ConfigurationError, match="must be a string, got 5"):
        CronSchedule(5)  # type: ignore[arg-type]


def test_february_29_and_the_day_31_are_possible() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    assert fire_times("0 0 29 2 *", start, 2) == [
        "2028-02-29T00:00:00+00:00",
        "2032-02-29T00:00:00+00:00",
    ]
    assert fire_times("0 12 31 * *", datetime(2024, 4, 1, tzinfo=UTC), 3) == [
        "2024-05-31T12:00:00+00:00",
        "2024-07-31T12:00:00+00:00",
        "2024-08-31T12:00:00+00:00",
    ]


# -- next times ----------------------------------------------------------------------------------


def test_next_time_is_strictly_after_and_on_whole_minutes() -> None:
    schedule = CronSchedule("* * * * *")
    on_the_minute = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert schedule.next_after(on_the_minute, UTC) == datetime(2024, 1, 1, 10, 1, tzinfo=UTC)
    within = datetime(2024, 1, 1, 10, 0, 59, 999_999, tzinfo=UTC)
    assert schedule.next_after(within, UTC) == datetime(2024, 1, 1, 10, 1, tzinfo=UTC)


def test_steps_hours_and_rollovers() -> None:
    start = datetime(2024, 12, 31, 23, 52, tzinfo=UTC)
    assert fire_times("*/5 * * * *", start, 3) == [
        "2024-12-31T23:55:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:05:00+00:00",
    ]
    assert fire_times("15 9-17/4 * * mon-fri", datetime(2024, 5, 17, 14, tzinfo=UTC), 4) == [
        "2024-05-17T17:15:00+00:00",  # Friday
        "2024-05-20T09:15:00+00:00",  # Monday
        "2024-05-20T13:15:00+00:00",
        "2024-05-20T17:15:00+00:00",
    ]


def test_vixie_or_rule_when_both_day_fields_are_restricted() -> None:
    # March 2024: Fridays are the 1st, 8th, 15th, 22nd, 29th.
    start = datetime(2024, 3, 1, 1, tzinfo=UTC)
    assert fire_times("0 0 2,20 * fri", start, 5) == [
        "2024-03-02T00:00:00+00:00",  # the 2nd, a Saturday
        "2024-03-08T00:00:00+00:00",  # a Friday
        "2024-03-15T00:00:00+00:00",
        "2024-03-20T00:00:00+00:00",  # the 20th, a Wednesday
        "2024-03-22T00:00:00+00:00",
    ]


def test_a_star_day_field_means_both_must_match() -> None:
    start = datetime(2024, 3, 1, 1, tzinfo=UTC)
    # Day of month '*': only Fridays.
    assert fire_times("0 0 * * fri", start, 2) == [
        "2024-03-08T00:00:00+00:00",
        "2024-03-15T00:00:00+00:00",
    ]
    # Day of week '*': only the 13th.
    assert fire_times("0 0 13 * *", start, 2) == [
        "2024-03-13T00:00:00+00:00",
        "2024-04-13T00:00:00+00:00",
    ]
    # '*/2' counts as '*' for the rule, as in Vixie cron: odd days that are also Fridays.
    assert fire_times("0 0 */2 * fri", start, 3) == [
        "2024-03-15T00:00:00+00:00",
        "2024-03-29T00:00:00+00:00",
        "2024-04-05T00:00:00+00:00",
    ]


def test_times_are_wall_times_of_the_timezone() -> None:
    start = datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert fire_times("0 9 * * *", start, 1, OSLO) == ["2024-06-02T09:00:00+02:00"]
    assert fire_times("0 9 * * *", start, 1, NEW_YORK) == ["2024-06-01T09:00:00-04:00"]
    schedule = CronSchedule("0 9 * * *")
    assert schedule.next_after(start, OSLO).astimezone(UTC) == datetime(2024, 6, 2, 7, tzinfo=UTC)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CronSchedule("* * * * *").next_after(datetime(2024, 1, 1), UTC)


# -- DST -----------------------------------------------------------------------------------------
# Oslo: 2024-03-31 02:00 CET -> 03:00 CEST; 2024-10-27 03:00 CEST -> 02:00 CET.
# New York: 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT -> 01:00 EST.


def test_spring_forward_a_fixed_time_job_runs_once_at_the_change() -> None:
    start = datetime(2024, 3, 30, 12, tzinfo=OSLO)
    assert fire_times("30 2 * * *", start, 3, OSLO) == [
        "2024-03-31T03:00:00+02:00",  # 02:30 does not exist that day
        "2024-04-01T02:30:00+02:00",
        "2024-04-02T02:30:00+02:00",
    ]
    start = datetime(2024, 3, 9, 12, tzinfo=NEW_YORK)
    assert fire_times("30 2 * * *", start, 2, NEW_YORK) == [
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]


def test_spring_forward_several_skipped_times_run_once() -> None:
    start = datetime(2024, 3, 31, 1, 30, tzinfo=OSLO)
    assert fire_times("0,20,40 2 * * *", start, 2, OSLO) == [
        "2024-03-31T03:00:00+02:00",
        "2024-04-01T02:00:00+02:00",
    ]
    # A time right at the change does not run a second time.
    assert fire_times("30 2,3 * * *", start, 3, OSLO) == [
        "2024-03-31T03:00:00+02:00",
        "2024-03-31T03:30:00+02:00",
        "2024-04-01T02:30:00+02:00",
    ]


def test_spring_forward_a_wildcard_job_skips_the_missing_hour() -> None:
    start = datetime(2024, 3, 31, 1, 10, tzinfo=OSLO)
    assert fire_times("*/30 * * * *", start, 4, OSLO) == [
        "2024-03-31T01:30:00+01:00",
        "2024-03-31T03:00:00+02:00",
        "2024-03-31T03:30:00+02:00",
        "2024-03-31T04:00:00+02:00",
    ]
    assert fire_times("*/20 2 * * *", start, 1, OSLO) == ["2024-04-01T02:00:00+02:00"]


def test_fall_back_a_fixed_time_job_runs_at_the_first_occurrence_only() -> None:
    start = datetime(2024, 10, 26, 12, tzinfo=OSLO)
    assert fire_times("30 2 * * *", start, 3, OSLO) == [
        "2024-10-27T02:30:00+02:00",
        "2024-10-28T02:30:00+01:00",
        "2024-10-29T02:30:00+01:00",
    ]
    start = datetime(2024, 11, 2, 12, tzinfo=NEW_YORK)
    assert fire_times("30 1 * * *", start, 2, NEW_YORK) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-04T01:30:00-05:00",
    ]


def test_fall_back_from_inside_the_second_pass() -> None:
    # 02:10 CET is the second 02:10 of the night: a fixed-time 02:30 job already ran.
    second_pass = datetime(2024, 10, 27, 1, 10, tzinfo=UTC)
    assert second_pass.astimezone(OSLO).isoformat() == "2024-10-27T02:10:00+01:00"
    assert CronSchedule("30 2 * * *").next_after(second_pass, OSLO).isoformat() == (
        "2024-10-28T02:30:00+01:00"
    )
    assert CronSchedule("*/30 * * * *").next_after(second_pass, OSLO).isoformat() == (
        "2024-10-27T02:30:00+01:00"
    )


def test_fall_back_a_wildcard_job_runs_in_both_passes() -> None:
    start = datetime(2024, 10, 27, 1, 40, tzinfo=OSLO)
    assert fire_times("*/30 * * * *", start, 6, OSLO) == [
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:30:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T02:30:00+01:00",
        "2024-10-27T03:00:00+01:00",
        "2024-10-27T03:30:00+01:00",
    ]
    # Hours '*/2' match 02:00 in both passes, and its next match after the first pass is 04:00.
    start = datetime(2024, 10, 27, 2, 30, tzinfo=OSLO)
    assert fire_times("0 */2 * * *", start, 2, OSLO) == [
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T04:00:00+01:00",
    ]


@pytest.mark.parametrize("tz", [OSLO, NEW_YORK], ids=str)
@pytest.mark.parametrize("expression", ["*/30 * * * *", "30 2 * * *", "0 1-3 * * *", "* 2 * * *"])
def test_fire_times_always_increase_across_both_changes(tz: ZoneInfo, expression: str) -> None:
    schedule = CronSchedule(expression)
    for first_day in (datetime(2024, 3, 8, tzinfo=tz), datetime(2024, 10, 25, tzinfo=tz)):
        end = (first_day + timedelta(days=12)).astimezone(UTC)
        last = first_day.astimezone(UTC)
        moment = first_day
        count = 0
        while last < end:
            moment = schedule.next_after(moment, tz)
            utc = moment.astimezone(UTC)
            assert utc > last, (expression, moment)
            last = utc
            count += 1
            assert count < 2000
        assert count >= 12
