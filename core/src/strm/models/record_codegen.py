"""Code generation for record classes: ``__init__``, the decoder, ``to_representation`` and
``asdict``, written as Python source with one line per field and compiled once per class.

Split from :mod:`strm.models.record`, which decides what each field needs (:class:`Field`);
this module only turns that into functions, and holds the helpers the generated code calls
when a field is missing or invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from strm.codecs.builtin import std_encode
from strm.kernel.errors import ValidationError
from strm.models import namespaces
from strm.models.fields import MISSING, FieldDescriptor
from strm.models.types import type_name

if TYPE_CHECKING:
    from strm.models.record import Record


@dataclass(slots=True)
class Field:
    """What the generated code needs of one field, worked out by the record module."""

    name: str
    descriptor: FieldDescriptor
    convert: Callable[[Any], Any] | None
    validator: Callable[[Any], ValidationError | None]
    dump: Callable[[Any], Any] | None
    factory: Callable[[], Any] | None


def show(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


# -- errors raised by generated code -------------------------------------------------------------


def _note_missing(
    errors: list[ValidationError] | None, d: FieldDescriptor
) -> list[ValidationError]:
    error = ValidationError(
        f"{d.field}: required field missing", field=d.field, expected=type_name(d.type)
    )
    return [error] if errors is None else [*errors, error]


def _note_bad(
    errors: list[ValidationError] | None, d: FieldDescriptor, value: Any, exc: Exception
) -> list[ValidationError]:
    expected = type_name(d.type)
    error = ValidationError(
        f"{d.field}: cannot convert {show(value)} to {expected}: {type(exc).__name__}: {exc}",
        field=d.field,
        expected=expected,
        value=value,
    )
    return [error] if errors is None else [*errors, error]


def _note(errors: list[ValidationError] | None, error: ValidationError) -> list[ValidationError]:
    return [error] if errors is None else [*errors, error]


def _failure(cls: type[Record], errors: list[ValidationError]) -> ValidationError:
    count = f"{len(errors)} invalid field{'s' if len(errors) != 1 else ''}"
    reasons = "; ".join(e.reason for e in errors)
    return ValidationError(f"{cls.__qualname__}: {count}: {reasons}", errors=errors)


def _not_a_mapping(cls: type[Record], data: Any) -> ValidationError:
    return ValidationError(
        f"cannot build {cls.__qualname__} from {type(data).__name__}: expected a mapping of "
        f"field names to values"
    )


# -- code generation -----------------------------------------------------------------------------


def generate_constructors(
    cls: type[Record], fields: list[Field], validation: bool, post_init: bool
) -> tuple[Callable[..., None], Callable[[Any], Any]]:
    """Generate ``__init__`` and the decoder ``_strm_build(data)``.

    Both share one body: per field, a missing-value check, the conversion (its failure noted,
    not raised, so every bad field is reported), the validation when it is on; then one raise
    listing all problems, or the attribute stores. Generated code has a line per field, so it
    runs at the speed of hand-written code. Fields are parameters and locals, so the code
    refers to nothing by a name a field could take: every helper is a ``_strm_`` global.
    """
    ns: dict[str, Any] = {
        "_strm_M": MISSING,
        "_strm_cls": cls,
        "_strm_new": object.__new__,
        "_strm_Mapping": Mapping,
        "_strm_dict": dict,
        "_strm_isinstance": isinstance,
        "_strm_Exception": Exception,
        "_strm_missing": _note_missing,
        "_strm_bad": _note_bad,
        "_strm_note": _note,
        "_strm_fail": _failure,
        "_strm_not_mapping": _not_a_mapping,
    }
    params: list[str] = []
    reads: list[str] = []
    body: list[str] = ["_strm_errors = None"]
    for i, f in enumerate(fields):
        name, d = f.name, f.descriptor
        ns[f"_strm_F{i}"] = d
        ns[f"_strm_V{i}"] = f.validator
        if f.convert is not None:
            ns[f"_strm_C{i}"] = f.convert
        if d.required or f.factory is not None:
            default = "_strm_M"
            if f.factory is not None:
                ns[f"_strm_D{i}"] = f.factory
        else:
            default = f"_strm_D{i}"
            ns[default] = d.default
        params.append(f"{name}={default}")
        reads.append(f"{name} = _strm_get({d.input_name!r}, {default})")
        checks = _convert_and_check(i, f, validation)
        if d.required:
            body.append(f"if {name} is _strm_M:")
            body.append(f"    _strm_errors = _strm_missing(_strm_errors, _strm_F{i})")
            if checks:
                body.append("else:")
                body.extend("    " + line for line in checks)
        else:
            if f.factory is not None:
                body.append(f"if {name} is _strm_M:")
                body.append(f"    {name} = _strm_D{i}()")
            body.extend(checks)
    body.append("if _strm_errors is not None:")
    body.append("    raise _strm_fail(_strm_cls, _strm_errors)")
    stores = [f"_strm_self.{f.name} = {f.name}" for f in fields]
    if post_init:
        stores.append("_strm_self.__post_init__()")

    init_src = [f"def __init__({', '.join(['_strm_self', *params])}):"]
    init_src += ["    " + line for line in body + stores]
    build_src = [
        "def _strm_build(_strm_data):",
        "    if _strm_data.__class__ is not _strm_dict and not _strm_isinstance("
        "_strm_data, _strm_Mapping):",
        "        raise _strm_not_mapping(_strm_cls, _strm_data)",
        "    _strm_get = _strm_data.get",
    ]
    build_src += ["    " + line for line in reads + body]
    build_src += ["    _strm_self = _strm_new(_strm_cls)"]
    build_src += ["    " + line for line in stores]
    build_src += ["    return _strm_self"]
    source = "\n".join(init_src) + "\n\n" + "\n".join(build_src) + "\n"
    exec(compile(source, f"<strm record {cls.__qualname__}>", "exec"), ns)
    init, build = ns["__init__"], ns["_strm_build"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__code__ = init.__code__.replace(co_qualname=init.__qualname__)
    init.__module__ = cls.__module__
    build.__qualname__ = f"{cls.__qualname__}.from_data"
    return init, build


def _convert_and_check(i: int, f: Field, validation: bool) -> list[str]:
    name = f.name
    check = (
        [
            f"_strm_v = _strm_V{i}({name})",
            "if _strm_v is not None:",
            "    _strm_errors = _strm_note(_strm_errors, _strm_v)",
        ]
        if validation
        else []
    )
    if f.convert is None:
        return check
    lines = [
        "try:",
        f"    {name} = _strm_C{i}({name})",
        "except _strm_Exception as _strm_exc:",
        f"    _strm_errors = _strm_bad(_strm_errors, _strm_F{i}, {name}, _strm_exc)",
    ]
    if check:
        lines.append("else:")
        lines.extend("    " + line for line in check)
    return lines


def generate_representation(
    cls: type[Record], fields: list[Field]
) -> Callable[[Record], dict[str, Any]]:
    ns: dict[str, Any] = {}
    items = []
    for i, f in enumerate(fields):
        if f.descriptor.exclude:
            continue
        key = repr(f.descriptor.output_name)
        if f.dump is None:
            items.append(f"{key}: _strm_self.{f.name}")
        else:
            ns[f"_strm_P{i}"] = f.dump
            items.append(f"{key}: _strm_P{i}(_strm_self.{f.name})")
    options = cls._options
    if options.include_metadata:
        items.append(f"{namespaces.METADATA_KEY!r}: {{'ns': {options.namespace!r}}}")
    source = f"def to_representation(_strm_self):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<strm record {cls.__qualname__}>", "exec"), ns)
    fn: Callable[[Record], dict[str, Any]] = ns["to_representation"]
    fn.__qualname__ = f"{cls.__qualname__}.to_representation"
    return fn


def generate_asdict(cls: type[Record], fields: list[Field]) -> Callable[[Record], dict[str, Any]]:
    items = [f"{f.name!r}: _strm_self.{f.name}" for f in fields if not f.descriptor.exclude]
    source = f"def asdict(_strm_self):\n    return {{{', '.join(items)}}}\n"
    ns: dict[str, Any] = {}
    exec(compile(source, f"<strm record {cls.__qualname__}>", "exec"), ns)
    fn: Callable[[Record], dict[str, Any]] = ns["asdict"]
    fn.__qualname__ = f"{cls.__qualname__}.asdict"
    return fn


def generate_json(cls: type[Record], fields: list[Field]) -> Callable[[Record], str]:
    """``_strm_json(self)``: the JSON text the built-in JSON codec makes of
    ``to_representation()``, byte for byte, without building the dict or walking it.

    Each field gets the text of its declared type when its value has exactly that type (an
    ``int``'s ``repr``, a finite ``float``'s ``repr``, a ``str`` through the standard library's
    ASCII escaper, ``true``/``false``), and otherwise the standard library's encoder of the
    codec; so an unexpected value, ``NaN`` or a nested record encodes as it did through the
    dict. The standard library's encoder costs about 4 µs for a four-field record, this 1.
    """
    ns: dict[str, Any] = {
        "_strm_enc": std_encode,
        "_strm_str": str,
        "_strm_int": int,
        "_strm_float": float,
        "_strm_estr": encode_basestring_ascii,
        "_strm_irepr": int.__repr__,
        "_strm_frepr": float.__repr__,
    }
    lines: list[str] = []
    pieces: list[str] = []
    separator = "{"
    for i, f in enumerate(fields):
        if f.descriptor.exclude:
            continue
        value = f"_strm_self.{f.name}"
        if f.dump is not None:
            ns[f"_strm_P{i}"] = f.dump
            text = f"_strm_enc(_strm_P{i}({value}))"
        else:
            lines.append(f"_strm_v = {value}")
            text = _typed_text(f.descriptor.type)
        lines.append(f"_strm_t{i} = {text}")
        pieces += [repr(separator + std_encode(f.descriptor.output_name) + ":"), f"_strm_t{i}"]
        separator = ","
    options = cls._options
    tail = "}"
    if options.include_metadata:
        meta = std_encode({"ns": options.namespace})
        tail = f"{separator}{std_encode(namespaces.METADATA_KEY)}:{meta}}}"
    elif separator == "{":
        tail = "{}"
    pieces.append(repr(tail))
    body = [*lines, f"return {' + '.join(pieces)}"]
    source = "def _strm_json(_strm_self):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<strm record {cls.__qualname__}>", "exec"), ns)
    fn: Callable[[Record], str] = ns["_strm_json"]
    fn.__qualname__ = f"{cls.__qualname__}._strm_json"
    return fn


def _typed_text(tp: Any) -> str:
    """The expression giving the JSON text of ``_strm_v`` for a field declared as ``tp``."""
    if tp is int:
        return "_strm_irepr(_strm_v) if _strm_v.__class__ is _strm_int else _strm_enc(_strm_v)"
    if tp is float:  # NaN and the infinities: the encoder's spelling (v - v is NaN for them)
        return (
            "_strm_frepr(_strm_v) if _strm_v.__class__ is _strm_float and _strm_v - _strm_v == 0"
            " else _strm_enc(_strm_v)"
        )
    if tp is str:
        return "_strm_estr(_strm_v) if _strm_v.__class__ is _strm_str else _strm_enc(_strm_v)"
    if tp is bool:
        return "'true' if _strm_v is True else 'false' if _strm_v is False else _strm_enc(_strm_v)"
    return "_strm_enc(_strm_v)"
