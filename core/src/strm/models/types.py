"""Compile a field's annotation into the small functions a record runs per event.

A :class:`Handler` is built once per field when the record class is created, so constructing or
decoding a record never inspects annotations again. Each handler has:

* ``convert``: turns the value as it arrives into the declared type. Conversions that only undo
  what JSON cannot carry (an ISO string to ``datetime``, a string to ``Decimal``, a mapping to a
  nested record, a list to a ``set`` or ``tuple``) always run; conversions between compatible
  types (``'3'`` to ``3``) run only when the model coerces. ``None`` when nothing needs doing,
  so plain ``int``/``str`` fields cost nothing. A convert function raises ``ValueError``,
  ``TypeError`` or ``ArithmeticError`` on malformed input and returns values of other types
  unchanged for the check to report.
* ``check``: is the value of the declared type (used by validation).
* ``dump``: turns the value into its JSON-ready form (``None`` when it already is one).

The module knows nothing about records except through :class:`Context`, which avoids an import
cycle with :mod:`strm.models.record`.
"""

from __future__ import annotations

import collections.abc as abc
import datetime as dt
import enum
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Literal, TypeVar, Union

from strm.models.handlers import (
    JSON_SCALARS,
    Context,
    Convert,
    Dump,
    Handler,
    NoneType,
    always,
    instance_check,
    is_none,
    type_name,
)
from strm.models.scalars import SCALARS, enum_handler

__all__ = ["Context", "Handler", "compile_type", "generic_dump_for", "optional", "type_name"]


def compile_type(tp: Any, ctx: Context) -> Handler:
    """The handler for one annotation."""
    if tp is Any or tp is object or isinstance(tp, TypeVar):
        return Handler("Any", always, None, generic_dump_for(ctx))
    if tp is None or tp is NoneType:
        return Handler("None", is_none, None, None, nullable=True)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return compile_type(typing.get_args(tp)[0], ctx)
    if origin is Union or origin is types.UnionType:
        return _union(typing.get_args(tp), ctx)
    if origin is Literal:
        values = typing.get_args(tp)
        return Handler(type_name(tp), lambda v: any(v == x for x in values))
    if origin is not None:
        return _generic(tp, origin, typing.get_args(tp), ctx)
    if isinstance(tp, type):
        if tp in ctx.coercions:
            return user_coercion(tp, ctx.coercions[tp], ctx)
        if ctx.is_model(tp):
            return ctx.model_handler(tp, ctx)
        builder = SCALARS.get(tp)
        if builder is not None:
            return builder(ctx)
        if issubclass(tp, enum.Enum):
            return enum_handler(tp)
        if tp in _BARE_CONTAINERS:
            return _generic(tp, tp, (), ctx)
        return Handler(type_name(tp), instance_check(tp), None, generic_dump_for(ctx))
    # A string forward reference that could not be resolved, a NewType or a typing special form
    # strm does not model: accept anything rather than guess.
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return compile_type(supertype, ctx)
    return Handler(type_name(tp), always, None, generic_dump_for(ctx))


# -- unions --------------------------------------------------------------------------------------


def _union(args: tuple[Any, ...], ctx: Context) -> Handler:
    members = [a for a in args if a is not NoneType]
    nullable = len(members) < len(args)
    if len(members) == 1:
        inner = compile_type(members[0], ctx)
        return optional(inner) if nullable else inner
    handlers = [compile_type(m, ctx) for m in members]
    name = " | ".join(h.name for h in handlers) + (" | None" if nullable else "")
    checks = [h.check for h in handlers]
    converters = [(h.convert, h.check) for h in handlers if h.convert is not None]

    def check(value: Any) -> bool:
        return any(c(value) for c in checks)

    def convert(value: Any) -> Any:
        # A value that already fits a member stays as it is; otherwise the first member whose
        # conversion yields a fitting value wins (order of the annotation).
        if any(c(value) for c in checks):
            return value
        for conv, fits in converters:
            try:
                result = conv(value)
            except (ValueError, TypeError, ArithmeticError):
                continue
            if fits(result):
                return result
        return value

    fallback = generic_dump_for(ctx)
    dumpers = [(h.check, h.dump) for h in handlers]

    def dump(value: Any) -> Any:
        for fits, dumper in dumpers:
            if fits(value):
                return value if dumper is None else dumper(value)
        return fallback(value)

    union = Handler(name, check, convert if converters else None, dump)
    return optional(union) if nullable else union


def optional(inner: Handler) -> Handler:
    """``inner`` that also accepts ``None``."""
    if inner.nullable:
        return inner
    check_inner, convert_inner, dump_inner = inner.check, inner.convert, inner.dump

    def check(value: Any) -> bool:
        return value is None or check_inner(value)

    convert: Convert | None = None
    if convert_inner is not None:
        conv = convert_inner

        def convert(value: Any) -> Any:
            return None if value is None else conv(value)

    dump: Dump | None = None
    if dump_inner is not None:
        dmp = dump_inner

        def dump(value: Any) -> Any:
            return None if value is None else dmp(value)

    return Handler(f"{inner.name} | None", check, convert, dump, nullable=True)


# -- containers ----------------------------------------------------------------------------------

_LISTS = (list, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection)
_SETS = (set, frozenset, abc.Set, abc.MutableSet)
_MAPS = (dict, abc.Mapping, abc.MutableMapping)
_BARE_CONTAINERS = frozenset({list, set, frozenset, dict, tuple})


def _generic(tp: Any, origin: Any, args: tuple[Any, ...], ctx: Context) -> Handler:
    name = type_name(tp)
    if origin in _LISTS:
        return _list(name, compile_type(args[0] if args else Any, ctx), origin is list, ctx)
    if origin in _SETS:
        frozen = origin is frozenset
        return _set(name, compile_type(args[0] if args else Any, ctx), frozen, ctx)
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return _var_tuple(name, compile_type(args[0] if args else Any, ctx), ctx)
        if args == ((),):  # tuple[()]
            return _fixed_tuple(name, [], ctx)
        return _fixed_tuple(name, [compile_type(a, ctx) for a in args], ctx)
    if origin in _MAPS:
        key_tp, value_tp = args if len(args) == 2 else (Any, Any)
        return _dict(name, key_tp, compile_type(value_tp, ctx), ctx)
    if isinstance(origin, type):
        return Handler(name, instance_check(origin), None, generic_dump_for(ctx))
    return Handler(name, always, None, generic_dump_for(ctx))


def _list(name: str, item: Handler, strict_list: bool, ctx: Context) -> Handler:
    item_check, item_conv, item_dump = item.check, item.convert, item.dump
    kinds: tuple[type, ...] = (list,) if strict_list else (list, tuple)

    def check(value: Any) -> bool:
        return isinstance(value, kinds) and all(item_check(x) for x in value)  # type: ignore[attr-defined]

    convert: Convert | None = None
    if item_conv is not None:
        conv = item_conv

        def convert(value: Any) -> Any:
            if isinstance(value, list | tuple) or (ctx.coerce and isinstance(value, set)):
                return [conv(x) for x in value]
            return value
    elif ctx.coerce:

        def convert(value: Any) -> Any:
            if isinstance(value, tuple | set | frozenset):
                return list(value)
            return value

    dump: Dump | None = None
    if item_dump is not None:
        dmp = item_dump

        def dump(value: Any) -> Any:
            if isinstance(value, list | tuple | set | frozenset):
                return [dmp(x) for x in value]
            return value

    return Handler(name, check, convert, dump)


def _set(name: str, item: Handler, frozen: bool, ctx: Context) -> Handler:
    item_check, item_conv, item_dump = item.check, item.convert, item.dump
    make: Callable[[Any], Any] = frozenset if frozen else set

    def check(value: Any) -> bool:
        ok = isinstance(value, frozenset) if frozen else isinstance(value, set | frozenset)
        return ok and all(item_check(x) for x in value)

    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple | set | frozenset):
            if item_conv is None:
                return value if type(value) is make else make(value)
            return make(item_conv(x) for x in value)
        return value

    def dump(value: Any) -> Any:
        if isinstance(value, set | frozenset | list | tuple):
            items = value if item_dump is None else [item_dump(x) for x in value]
            return _sorted_if_possible(items)
        return value

    return Handler(name, check, convert, dump)


def _sorted_if_possible(items: Any) -> list[Any]:
    # A stable order gives equal sets equal bytes (compaction and deduplication rely on that).
    try:
        return sorted(items)
    except TypeError:
        return list(items)


def _var_tuple(name: str, item: Handler, ctx: Context) -> Handler:
    item_check, item_conv, item_dump = item.check, item.convert, item.dump

    def check(value: Any) -> bool:
        return isinstance(value, tuple) and all(item_check(x) for x in value)

    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            if item_conv is None:
                return value if type(value) is tuple else tuple(value)
            return tuple(item_conv(x) for x in value)
        return value

    def dump(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return list(value) if item_dump is None else [item_dump(x) for x in value]
        return value

    return Handler(name, check, convert, dump)


def _fixed_tuple(name: str, items: list[Handler], ctx: Context) -> Handler:
    size = len(items)
    checks = [h.check for h in items]
    convs = [h.convert for h in items]
    dumps = [h.dump for h in items]

    def check(value: Any) -> bool:
        return (
            isinstance(value, tuple)
            and len(value) == size
            and all(c(x) for c, x in zip(checks, value, strict=True))
        )

    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != size:
                raise ValueError(f"expected {size} items, got {len(value)}")
            return tuple(x if c is None else c(x) for c, x in zip(convs, value, strict=True))
        return value

    def dump(value: Any) -> Any:
        if isinstance(value, tuple | list) and len(value) == size:
            return [x if d is None else d(x) for d, x in zip(dumps, value, strict=True)]
        return value

    return Handler(name, check, convert, dump)


def _dict(name: str, key_tp: Any, item: Handler, ctx: Context) -> Handler:
    # JSON object keys are always strings, so keys are converted as if the model coerced:
    # dict[int, X] reads {"1": ...} back as {1: ...}.
    key = compile_type(key_tp, replace(ctx, coerce=True))
    key_check, key_conv, key_dump = key.check, key.convert, key.dump
    item_check, item_conv, item_dump = item.check, item.convert, item.dump

    def check(value: Any) -> bool:
        return isinstance(value, dict) and all(
            key_check(k) and item_check(v) for k, v in value.items()
        )

    convert: Convert | None = None
    if key_conv is not None or item_conv is not None:
        kc = key_conv or _identity
        vc = item_conv or _identity

        def convert(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {kc(k): vc(v) for k, v in value.items()}
            return value

    dump: Dump | None = None
    if key_dump is not None or item_dump is not None:
        kd = key_dump or _identity
        vd = item_dump or _identity

        def dump(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {kd(k): vd(v) for k, v in value.items()}
            return value

    return Handler(name, check, convert, dump)


def _identity(value: Any) -> Any:
    return value


# -- output of values whose type is not declared -------------------------------------------------


def generic_dump_for(ctx: Context) -> Dump:
    """A dump function for ``Any`` fields: decides by the value's runtime type."""
    dump_model = ctx.dump_model

    def dump(value: Any) -> Any:
        if isinstance(value, JSON_SCALARS):
            return value
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, enum.Enum):
            return dump(value.value)
        if isinstance(value, Mapping):
            return {dump(k): dump(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [dump(x) for x in value]
        if isinstance(value, set | frozenset):
            return _sorted_if_possible([dump(x) for x in value])
        if isinstance(value, bytes):
            return value.decode("utf-8", "surrogateescape")
        return dump_model(value)

    return dump


def user_coercion(tp: type, fn: Convert, ctx: Context) -> Handler:
    check = instance_check(tp)

    def convert(value: Any) -> Any:
        return value if check(value) else fn(value)

    return Handler(type_name(tp), check, convert, generic_dump_for(ctx))
