"""The handlers of scalar types (``int``, ``float``, ``bool``, ``str``, ``bytes``, ``Decimal``,
dates and times, ``UUID``, enums): what :func:`strm.models.types.compile_type` uses when an
annotation is a plain class."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from strm.models.handlers import (
    Context,
    Handler,
)

# -- scalars -------------------------------------------------------------------------------------


def _int(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def coerce(value: Any) -> Any:
        if type(value) is int:
            return value
        if isinstance(value, str | bytes):
            return int(value.strip())
        if isinstance(value, float | Decimal) and not isinstance(value, bool):
            if value != int(value):
                raise ValueError(f"{value!r} is not a whole number")
            return int(value)
        return value

    return Handler("int", check, coerce if ctx.coerce else None)


def _float(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, float | int) and not isinstance(value, bool)

    def widen(value: Any) -> Any:
        # JSON writes 1.0 as 1 in many producers; a float field should still hold a float.
        if type(value) is int:
            return float(value)
        return value

    def coerce(value: Any) -> Any:
        if type(value) is float:
            return value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str | bytes):
            return float(value.strip())
        return value

    return Handler("float", check, coerce if ctx.coerce else widen)


_TRUE = frozenset({"true", "1", "yes", "y", "on", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "f"})


def _bool(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, bool)

    def coerce(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"{value!r} is not a boolean")
        if type(value) is int and value in (0, 1):
            return bool(value)
        return value

    return Handler("bool", check, coerce if ctx.coerce else None)


def _str(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, str)

    def coerce(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, int | float | Decimal | uuid.UUID) and not isinstance(value, bool):
            return str(value)
        return value

    return Handler("str", check, coerce if ctx.coerce else None)


def _bytes(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, bytes)

    def convert(value: Any) -> Any:
        # JSON has no bytes: they travel as text (as Faust writes them), with undecodable bytes
        # escaped so any byte string survives a round trip.
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if ctx.coerce and isinstance(value, bytearray | memoryview):
            return bytes(value)
        return value

    def dump(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode("utf-8", "surrogateescape")
        return value

    return Handler("bytes", check, convert, dump)


def _decimal(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, Decimal) and value.is_finite()

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return Decimal(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, float):
            # repr() is the shortest text that reads back as the same float: 0.1 -> '0.1',
            # not the 55-digit binary expansion Decimal(0.1) would give.
            return Decimal(repr(value))
        return value

    return Handler("finite Decimal", check, convert, _dump_decimal)


def _dump_decimal(value: Any) -> Any:
    # A string keeps every digit; a JSON number would pass through a float on most readers.
    return str(value) if isinstance(value, Decimal) else value


def _datetime(ctx: Context) -> Handler:
    parse = ctx.date_parser

    def check(value: Any) -> bool:
        return isinstance(value, dt.datetime)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return parse(value)
        return value

    return Handler("datetime", check, convert, _dump_iso)


def _date(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        return value

    return Handler("date", check, convert, _dump_iso)


def _time(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, dt.time)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return dt.time.fromisoformat(value)
        return value

    return Handler("time", check, convert, _dump_iso)


def _dump_iso(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _uuid(ctx: Context) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, uuid.UUID)

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return uuid.UUID(value)
        return value

    def dump(value: Any) -> Any:
        return str(value) if isinstance(value, uuid.UUID) else value

    return Handler("UUID", check, convert, dump)


def enum_handler(tp: type[enum.Enum]) -> Handler:
    def check(value: Any) -> bool:
        return isinstance(value, tp)

    def convert(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        return tp(value)

    def dump(value: Any) -> Any:
        return value.value if isinstance(value, enum.Enum) else value

    return Handler(tp.__qualname__, check, convert, dump)


SCALARS: dict[type, Callable[[Context], Handler]] = {
    int: _int,
    float: _float,
    bool: _bool,
    str: _str,
    bytes: _bytes,
    Decimal: _decimal,
    dt.datetime: _datetime,
    dt.date: _date,
    dt.time: _time,
    uuid.UUID: _uuid,
}
