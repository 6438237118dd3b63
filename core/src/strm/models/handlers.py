"""What a field's declared type compiles to (:class:`Handler`), the model options that shape it
(:class:`Context`), and the checks every kind of type shares; :mod:`strm.models.types` compiles
annotations into handlers, :mod:`strm.models.scalars` holds those of the scalar types."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

Convert = Callable[[Any], Any]
Check = Callable[[Any], bool]
Dump = Callable[[Any], Any]

NoneType = type(None)
JSON_SCALARS = (str, int, float, bool, NoneType)


@dataclass(frozen=True, slots=True)
class Handler:
    """What a field of one declared type does on input, validation and output."""

    name: str
    check: Check
    convert: Convert | None = None
    dump: Dump | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Context:
    """The model options that change how types are handled.

    ``model_handler`` builds the handler of a nested record class; ``is_model`` says whether a
    class is one (both supplied by :mod:`strm.models.record`).
    """

    coerce: bool
    polymorphic: bool
    date_parser: Callable[[str], dt.datetime]
    coercions: Mapping[type, Convert]
    is_model: Callable[[Any], bool]
    model_handler: Callable[[type, Context], Handler]
    dump_model: Dump


def type_name(tp: Any) -> str:
    """A short readable name for an annotation, for error messages."""
    if tp is NoneType or tp is None:
        return "None"
    if tp is Any:
        return "Any"
    origin = typing.get_origin(tp)
    if origin is None:
        return getattr(tp, "__qualname__", None) or repr(tp).replace("typing.", "")
    args = typing.get_args(tp)
    if origin is Union or origin is types.UnionType:
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    base = getattr(origin, "__qualname__", None) or repr(origin).replace("typing.", "")
    inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
    return f"{base}[{inner}]" if args else base


def always(value: Any) -> bool:
    return True


def is_none(value: Any) -> bool:
    return value is None


def instance_check(tp: type) -> Check:
    def check(value: Any) -> bool:
        try:
            return isinstance(value, tp)
        except TypeError:  # a non-runtime-checkable protocol or similar: cannot tell
            return True

    return check
