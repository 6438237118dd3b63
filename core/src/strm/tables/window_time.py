"""How windowed tables tell time: durations, and the time an event counts at.

Faust apps give durations as seconds or as a ``timedelta``, and say what a windowed table's
time is relative to with a datetime, seconds, a record field or a function of the event; the
helpers here turn each into seconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from strm.events import Event
from strm.kernel.errors import StrmError

#: A duration as Faust takes one: seconds, or a :class:`datetime.timedelta`.
Seconds = float | timedelta
#: What a windowed table's time can be relative to (see ``WindowWrapper.relative_to``).
RelativeArg = Callable[[Event | None], Any] | datetime | float | Any


def want_seconds(value: Seconds, what: str) -> float:
    """A duration in seconds: Faust apps write windows as ``timedelta(minutes=1)`` as often as
    ``60``, so both are taken wherever a duration is."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StrmError(f"{what} must be seconds (a number or a timedelta), got {value!r}")
    return float(value)


def optional_seconds(value: Seconds | None, what: str) -> float | None:
    return None if value is None else want_seconds(value, what)


def event_time(event: Event | None) -> float:
    if event is None:
        raise StrmError(
            "this windowed table is relative to the stream: use it while processing an event, "
            "or use relative_to_now()"
        )
    return event.message.timestamp


def _as_seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def field_time(field: Any) -> Callable[[Event | None], float]:
    """The time of an event as a field of its value: a record field, or a field's name."""
    getter = field.getattr if hasattr(field, "getattr") else (lambda v: getattr(v, field))

    def at(event: Event | None) -> float:
        if event is None:
            raise StrmError("a table relative to a field needs an event being processed")
        return _as_seconds(getter(event.value))

    return at


def relative_handler(relative_to: RelativeArg) -> Callable[[Event | None], float]:
    """What a windowed table's time is relative to, as Faust's ``relative_to`` takes it: the
    stream (``None``), a fixed time (a datetime or seconds), a record field, or a function of
    the current event (returning seconds or a datetime)."""
    if relative_to is None:
        return event_time
    if isinstance(relative_to, datetime):
        fixed = relative_to.timestamp()
        return lambda event: fixed
    if isinstance(relative_to, int | float) and not isinstance(relative_to, bool):
        seconds = float(relative_to)
        return lambda event: seconds
    if hasattr(relative_to, "getattr"):
        return field_time(relative_to)
    if callable(relative_to):
        fun = relative_to
        return lambda event: _as_seconds(fun(event))
    raise StrmError(
        "relative_to takes a datetime, seconds, a record field or a function of the event, "
        f"not {relative_to!r}"
    )
