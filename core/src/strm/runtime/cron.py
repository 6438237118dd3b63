"""Cron expressions: parsing, and the next time one fires in a timezone, across DST changes.

An expression has five fields, ``minute hour day-of-month month day-of-week``. Each field is a
comma-separated list of items: ``*``, a number, a range ``a-b``, each optionally stepped (``*/5``,
``1-10/2``; ``a/n`` is ``a`` to the field's end in steps of ``n``). Months and weekdays may be
named (``jan``..``dec``, ``sun``..``sat``, any case); weekday ``7`` is Sunday like ``0``. The
shortcuts ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``) and
``@hourly`` stand for their usual expressions.

Days follow Vixie cron: when both day fields are restricted (neither starts with ``*``), a day
matches if *either* matches (``0 0 1,15 * fri`` runs on the 1st, the 15th and every Friday);
when one of them starts with ``*``, a day must match both.

Times are wall-clock times in the schedule's timezone. Where a DST change makes a wall time
occur never or twice, strm does what Vixie cron does, per kind of job:

* A *fixed-time* job (neither minute nor hour starts with ``*``, e.g. ``30 2 * * *``) runs once
  per matching day: a time the clocks skip in spring runs once at the moment of the change (the
  02:30 job runs at 03:00 in Oslo on the last Sunday of March), several skipped times run once
  together; a time that occurs twice in autumn runs at its first occurrence only.
* A *wildcard* job (``*/15 * * * *``, ``0 * * * *``) follows the clock: skipped times do not run,
  and times that occur twice run at both occurrences.
"""

from __future__ import annotations

import bisect
import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from strm.kernel.errors import ConfigurationError

MINUTE = timedelta(minutes=1)

MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
DAY_NAMES = {
    name.lower(): (number + 1) % 7 for number, name in enumerate(calendar.day_abbr)
}  # cron counts from Sunday = 0; calendar from Monday = 0

SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

#: Longest month of each month number, Feb 29 included: a day that never occurs is an error.
LONGEST_MONTH = dict(enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1))

#: Upper bound of the field-by-field search for the next matching wall time. The slowest real
#: case, a Feb 29 that must also be a given weekday, needs some thousand steps.
MAX_SEARCH_STEPS = 100_000


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, MONTH_NAMES),
    _Field("day-of-week", 0, 7, DAY_NAMES),
)


class _FieldError(ValueError):
    pass


def _number(field: _Field, text: str) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not text.isdigit():
        known = f" or a name ({', '.join(field.names)})" if field.names else ""
        raise _FieldError(f"{text!r} is not a number{known}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise _FieldError(f"{value} is out of range {field.low}-{field.high}")
    return value


def _parse_item(field: _Field, item: str) -> set[int]:
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise _FieldError(f"step {step_text!r} of {item!r} is not a positive number")
        step = int(step_text)
    if span == "*":
        low, high = field.low, field.high
    elif "-" in span:
        first, _, last = span.partition("-")
        low, high = _number(field, first), _number(field, last)
        if low > high:
            raise _FieldError(f"range {span!r} runs backwards")
    else:
        low = _number(field, span)
        high = field.high if slash else low
    return set(range(low, high + 1, step))


def _parse_field(field: _Field, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _FieldError("has an empty list item")
        values |= _parse_item(field, item)
    if field.name == "day-of-week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


class CronSchedule:
    """A parsed cron expression; :meth:`next_after` gives the next time it fires.

    Raises :class:`strm.kernel.errors.ConfigurationError` naming the expression and the bad field.
    """

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str):
            raise ConfigurationError(f"a crontab expression must be a string, got {expression!r}")
        self.expression = expression
        text = expression.strip()
        if text.startswith("@"):
            if text.lower() not in SHORTCUTS:
                raise ConfigurationError(
                    f"invalid crontab expression {expression!r}: unknown shortcut; use one of "
                    f"{', '.join(SHORTCUTS)}"
                )
            text = SHORTCUTS[text.lower()]
        parts = text.split()
        if len(parts) != len(FIELDS):
            raise ConfigurationError(
                f"invalid crontab expression {expression!r}: expected 5 fields (minute hour "
                f"day-of-month month day-of-week), got {len(parts)}"
            )
        parsed: list[frozenset[int]] = []
        for field, part in zip(FIELDS, parts, strict=True):
            try:
                parsed.append(_parse_field(field, part))
            except _FieldError as exc:
                raise ConfigurationError(
                    f"invalid crontab expression {expression!r}: {field.name} field {part!r}: {exc}"
                ) from None
        self.minutes, self.hours, self.days, self.months, self.weekdays = parsed
        self._minutes = sorted(self.minutes)
        self._hours = sorted(self.hours)
        self._days = sorted(self.days)
        self._months = sorted(self.months)
        minute_star, hour_star, dom_star, _, dow_star = (p.startswith("*") for p in parts)
        #: Vixie's rule: with both day fields restricted, either may match.
        self.days_either = not (dom_star or dow_star)
        #: Fixed-time jobs run once on a DST change; wildcard jobs follow the clock.
        self.fixed_time = not (minute_star or hour_star)
        if not self.days_either and not any(
            day <= LONGEST_MONTH[month] for month in self.months for day in self.days
        ):
            raise ConfigurationError(
                f"invalid crontab expression {expression!r}: day-of-month field {parts[2]!r} "
                f"never occurs in month field {parts[3]!r}"
            )

    def __repr__(self) -> str:
        return f"<CronSchedule {self.expression!r}>"

    # -- wall times ------------------------------------------------------------------------------

    def matches_day(self, day: date) -> bool:
        in_month = day.day in self.days
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        return (in_month or in_week) if self.days_either else (in_month and in_week)

    def next_wall_time(self, start: datetime) -> datetime:
        """The first naive wall time at or after ``start`` (rounded up to a minute) that matches."""
        wall = start.replace(tzinfo=None)
        if wall.second or wall.microsecond:
            wall = wall.replace(second=0, microsecond=0) + MINUTE
        for _ in range(MAX_SEARCH_STEPS):
            if wall.month not in self.months:
                wall = self._next_month(wall)
            elif not self.matches_day(wall.date()):
                wall = self._next_day(wall)
            elif wall.hour not in self.hours:
                hour = _following(self._hours, wall.hour)
                if hour is None:
                    wall = _midnight(wall) + timedelta(days=1)
                else:
                    wall = wall.replace(hour=hour, minute=0)
            elif wall.minute not in self.minutes:
                minute = _following(self._minutes, wall.minute)
                if minute is None:
                    wall = wall.replace(minute=0) + timedelta(hours=1)
                else:
                    wall = wall.replace(minute=minute)
            else:
                return wall
        raise RuntimeError(f"crontab {self.expression!r}: no match found after {start}")

    def _next_month(self, wall: datetime) -> datetime:
        month = _following(self._months, wall.month)
        if month is None:
            return datetime(wall.year + 1, self._months[0], 1)
        return datetime(wall.year, month, 1)

    def _next_day(self, wall: datetime) -> datetime:
        if not self.days_either:
            # The day of month must match: jump to the next one this month has.
            length = calendar.monthrange(wall.year, wall.month)[1]
            day = _following(self._days, wall.day)
            if day is not None and day <= length:
                return datetime(wall.year, wall.month, day)
            return datetime(wall.year, wall.month, length) + timedelta(days=1)
        return _midnight(wall) + timedelta(days=1)

    # -- instants --------------------------------------------------------------------------------

    def next_after(self, moment: datetime, tz: tzinfo) -> datetime:
        """The first time after ``moment`` (timezone-aware) the schedule fires, computed on the
        wall clock of ``tz``; returned as an aware datetime in ``tz``.

        Two results in one zone compare and subtract as wall times (Python's rule for a shared
        tzinfo), which is wrong across a DST change: convert to UTC before arithmetic.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"next_after() needs a timezone-aware datetime, got {moment!r}")
        local = moment.astimezone(tz)
        wall = local.replace(tzinfo=None, second=0, microsecond=0) + MINUTE
        repeated = _repeated_period(local, tz)
        if repeated is not None and local.fold == 1:
            # Second pass through wall times that occur twice: only wildcard jobs run again.
            first_wall, length = repeated
            end = first_wall + length
            candidate = self.next_wall_time(wall)
            if candidate < end and not self.fixed_time:
                return candidate.replace(tzinfo=tz, fold=1)
            wall = max(wall, end)
        result = self._resolve(wall, tz)
        if repeated is not None and local.fold == 0 and not self.fixed_time:
            # Still in the first pass: the second pass may come before the next match.
            first_wall, length = repeated
            again = self.next_wall_time(first_wall)
            if again < first_wall + length:
                second = again.replace(tzinfo=tz, fold=1)
                if second.astimezone(UTC) < result.astimezone(UTC):
                    return second
        return result

    def _resolve(self, wall: datetime, tz: tzinfo) -> datetime:
        """The instant of the next matching wall time from ``wall``, on its first occurrence;
        wall times skipped by a DST change run at the change (fixed-time jobs) or not at all."""
        for _ in range(MAX_SEARCH_STEPS):
            candidate = self.next_wall_time(wall)
            if _exists(candidate, tz):
                return candidate.replace(tzinfo=tz, fold=0)
            if self.fixed_time:
                return _gap_end(candidate, tz)
            wall = candidate + MINUTE
        raise RuntimeError(f"crontab {self.expression!r}: no existing time found after {wall}")


def _following(values: list[int], current: int) -> int | None:
    index = bisect.bisect_right(values, current)
    return values[index] if index < len(values) else None


def _midnight(wall: datetime) -> datetime:
    return datetime(wall.year, wall.month, wall.day)


def _exists(wall: datetime, tz: tzinfo) -> bool:
    """Whether a naive wall time occurs in ``tz`` (it does not in a spring-forward gap)."""
    there_and_back = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return there_and_back.replace(tzinfo=None) == wall


def _offset(moment: datetime) -> timedelta:
    offset = moment.utcoffset()
    assert offset is not None
    return offset


def _transition(low: datetime, high: datetime, tz: tzinfo) -> datetime:
    """The first second in ``(low, high]`` (UTC) whose UTC offset in ``tz`` differs from
    ``low``'s: the moment of a DST change between them."""
    before = _offset(low.astimezone(tz))
    lo, hi = 0, int((high - low).total_seconds())
    while hi - lo > 1:  # bisection: about 17 steps for a day
        mid = (lo + hi) // 2
        if _offset((low + timedelta(seconds=mid)).astimezone(tz)) == before:
            lo = mid
        else:
            hi = mid
    return low + timedelta(seconds=hi)


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    """The moment the clocks jump over ``wall``, a wall time in a spring-forward gap."""
    # For a time in a gap, fold=1 applies the offset after the jump (an earlier instant) and
    # fold=0 the one before it (a later instant): the jump lies between the two.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return _transition(low, high, tz).astimezone(tz)


def _repeated_period(local: datetime, tz: tzinfo) -> tuple[datetime, timedelta] | None:
    """When ``local``'s wall time occurs twice (the autumn DST change), the first wall time of
    the repeated period and its length; else None."""
    wall = local.replace(tzinfo=None)
    first = _offset(wall.replace(tzinfo=tz, fold=0))
    second = _offset(wall.replace(tzinfo=tz, fold=1))
    if first <= second:
        return None
    length = first - second
    low = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    change = _transition(low, low + length, tz)
    return change.astimezone(tz).replace(tzinfo=None), length
