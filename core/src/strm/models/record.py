"""``strm.Record``: typed, serialisable event models declared with annotations.

::

    class Point(strm.Record, serializer="json", namespace="geo.Point"):
        x: int
        y: int = 0

Everything that depends on the fields is worked out once, when the class is created: the field
list, each field's conversion, check and output functions (:mod:`strm.models.types`), and a
generated ``__init__`` and decoder with one line per field, so constructing or decoding a record
costs a few attribute stores plus the conversions its types really need, with no reflection per
instance. Conversion and validation are these compiled functions rather than marshmallow
schemas: a schema walk per event costs several times the construction itself, nested records
need strm's namespace lookup anyway, and the kernel keeps its dependencies to pluggy and click.

Class options (keywords in the class statement, or attributes of an inner ``class Options``;
subclasses inherit all but ``namespace`` and ``abstract``):

* ``serializer``: codec name (or codec object) for ``dumps``/``loads`` and for topics typed with
  this model that name no serializer of their own.
* ``namespace``: the name payloads carry to say which model they are (default
  ``module.QualName``, as Faust's).
* ``include_metadata`` (default ``True``): ``to_representation`` adds
  ``{"__strm": {"ns": namespace}}`` so readers can pick the subclass (see
  :mod:`strm.models.namespaces`; Faust's ``"__faust"`` key is read too).
* ``validation`` (default ``False``): check types and field limits on construction and raise
  one :class:`~strm.kernel.errors.ValidationError` listing every bad field. Implies
  ``coerce`` unless ``coerce=False`` is given.
* ``coerce`` (default ``False``): convert compatible input (``'3'`` to ``3``, ``3`` to ``3.0``,
  ``'true'`` to ``True``) before checking.
* ``polymorphic_fields`` (default ``True``): a nested field typed as a base class is built as
  the subclass its payload names.
* ``date_parser``: the function reading ``datetime`` fields from strings (default
  :meth:`datetime.fromisoformat`, which reads ISO 8601).
* ``coercions``: ``{type: function}`` converting input for fields of user-defined types.
* ``abstract``: a base class that is never built itself, only its subclasses.
* ``isodates``/``decimals``: Faust's switches for parsing ISO dates and decimals. strm always
  does both, so only ``True`` is accepted.

Faust options strm does not act on (``allow_blessed_key``, ``lazy_creation``) raise ``TypeError``
rather than being silently ignored.
"""

from __future__ import annotations

import datetime as dt
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any, ClassVar, Self

from strm.kernel.errors import ValidationError
from strm.kernel.spi import Codec
from strm.models import namespaces
from strm.models.base import Model
from strm.models.fields import MISSING, FieldDescriptor, field_for_type
from strm.models.record_codegen import (
    Field,
    generate_asdict,
    generate_constructors,
    generate_json,
    generate_representation,
    show,
)
from strm.models.record_options import ModelOptions, RawField, apply_options
from strm.models.types import Context, Handler, compile_type, optional

__all__ = ["ModelOptions", "Record"]

_METADATA_KEY = namespaces.METADATA_KEY
#: Namespace to class (``strm.models.namespaces``), read directly on the per-record path.
_registry = namespaces.registry
_FAUST_METADATA_KEY = namespaces.FAUST_METADATA_KEY

_NoneType = type(None)


#: Options Faust has that strm refuses, with the reason given in the error.
class Record(Model):
    """Base class of strm's event models; see the module documentation for the options."""

    _options: ClassVar[ModelOptions]

    @staticmethod
    def _strm_build(data: Any) -> Any:
        """Build an instance from a mapping; generated per class (this one is abstract)."""
        return _abstract_build(Record)(data)

    @staticmethod
    def _strm_values(obj: Any) -> tuple[Any, ...]:
        """The field values as a tuple, in field order; generated per class."""
        return ()

    def __init_subclass__(
        cls,
        *,
        serializer: str | Codec | None = None,
        namespace: str | None = None,
        include_metadata: bool | None = None,
        validation: bool | None = None,
        coerce: bool | None = None,
        polymorphic_fields: bool | None = None,
        date_parser: Callable[[str], dt.datetime] | None = None,
        coercions: Mapping[type, Callable[[Any], Any]] | None = None,
        isodates: bool | None = None,
        decimals: bool | None = None,
        abstract: bool = False,
        **unknown: Any,
    ) -> None:
        super().__init_subclass__()
        given: dict[str, Any] = {}
        inner = cls.__dict__.get("Options")
        if isinstance(inner, type):
            given.update({k: v for k, v in vars(inner).items() if not k.startswith("__")})
            delattr(cls, "Options")
        explicit = {
            "serializer": serializer,
            "namespace": namespace,
            "include_metadata": include_metadata,
            "validation": validation,
            "coerce": coerce,
            "polymorphic_fields": polymorphic_fields,
            "date_parser": date_parser,
            "coercions": coercions,
            "isodates": isodates,
            "decimals": decimals,
            "abstract": abstract or None,
        }
        given.update({k: v for k, v in explicit.items() if v is not None})
        given.update(unknown)
        _setup(cls, given)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"{type(self).__qualname__} is abstract: build one of its subclasses, or decode a "
            f"payload whose namespace names one with from_data()/loads()"
        )

    # -- decoding --------------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, *, preferred_type: type[Model] | None = None) -> Self:
        """Build a record from a mapping of field values (as a codec decodes it).

        When the mapping's metadata names a registered subclass of this class, that subclass is
        built; otherwise ``preferred_type`` if given, else this class. Keys that are not fields
        are ignored, so producers may add fields before consumers know them.
        """
        if data.__class__ is dict:  # what codecs give: the metadata check inlined, per event
            meta = data.get(_METADATA_KEY)
            if meta is None:
                meta = data.get(_FAUST_METADATA_KEY)
            if meta is not None:
                name = meta.get("ns") if meta.__class__ is dict else None
                target = _registry.get(name) if name.__class__ is str else None
                if target is not None and target is not cls and issubclass(target, cls):
                    return target._strm_build(data)  # type: ignore[no-any-return]
        elif isinstance(data, Record):
            return data  # type: ignore[return-value]
        if preferred_type is not None and issubclass(preferred_type, cls):
            return preferred_type._strm_build(data)  # type: ignore[no-any-return]
        return cls._strm_build(data)  # type: ignore[no-any-return]

    # -- encoding --------------------------------------------------------------------------------

    def to_representation(self) -> dict[str, Any]:
        """A JSON-ready dict: nested records as dicts, datetimes as ISO 8601 strings, decimals
        as strings, sets and tuples as lists, plus the namespace metadata when
        ``include_metadata`` is on."""
        raise TypeError(f"{type(self).__qualname__} is abstract")

    def asdict(self) -> dict[str, Any]:
        """The field values by field name, as they are (nested records stay records)."""
        raise TypeError(f"{type(self).__qualname__} is abstract")

    def derive(self, *objects: Record, **fields: Any) -> Self:
        """A copy with fields taken from ``objects`` (those this model also has), then from
        ``fields``; the copy is built (and validated) like any new record."""
        names = self._options.descriptors
        values = dict(zip(names, self._strm_values(self), strict=True))
        for obj in objects:
            other = obj._options.descriptors
            values.update(
                (name, value)
                for name, value in zip(other, obj._strm_values(obj), strict=True)
                if name in names
            )
        values.update(fields)
        return type(self)(**values)

    # -- validation ------------------------------------------------------------------------------

    def validate(self) -> list[ValidationError]:
        """Every way the current field values break the declared types and field limits."""
        _compile(type(self))
        errors = []
        for name, check in self._options.validators:
            problem = check(self.__dict__.get(name))
            if problem is not None:
                errors.append(problem)
        return errors

    # -- comparison ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._strm_values(self) == self._strm_values(other)
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._strm_values(self) < self._strm_values(other)
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._strm_values(self) <= self._strm_values(other)
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._strm_values(self) > self._strm_values(other)
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._strm_values(self) >= self._strm_values(other)
        return NotImplemented

    def __hash__(self) -> int:
        # Records key tables and windows, so they hash by value (like Faust's); a record whose
        # fields hold lists or dicts is unhashable, as a tuple holding them would be.
        return hash(self._strm_values(self))

    def __repr__(self) -> str:
        names = self._options.descriptors
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(names, self._strm_values(self), strict=True)
        )
        return f"{type(self).__qualname__}({shown})"


Record._options = ModelOptions()
Record._options.abstract = True
Record._options.namespace = "strm.Record"
Record._options.compiled = True


def _abstract_build(cls: type[Record]) -> Callable[[Any], Any]:
    def build(data: Any) -> Any:
        namespace = namespaces.namespace_of(data)
        if namespace is None:
            reason = "the payload names no model namespace"
        elif namespaces.lookup(namespace) is None:
            reason = f"the payload's namespace {namespace!r} is not a registered model"
        else:
            reason = f"the payload's namespace {namespace!r} is not a subclass of it"
        raise ValidationError(f"cannot decode {cls.__qualname__}: it is abstract and {reason}")

    return build


# Names a field may not take: they would hide the record's own methods and attributes.
_RESERVED = frozenset(name for name in dir(Record) if not name.startswith("__"))


# -- class set-up --------------------------------------------------------------------------------


def _setup(cls: type[Record], given: dict[str, Any]) -> None:
    bases = [b for b in cls.__mro__[1:] if issubclass(b, Record) and b is not Record]
    options = bases[0]._options.inherit() if bases else ModelOptions()
    for base in reversed(bases):  # fields of every record base, the most derived last
        options._raw.update(base._options._raw)
    apply_options(cls, options, given)
    if "__init__" in cls.__dict__:
        raise TypeError(
            f"{cls.__qualname__} defines __init__; records generate theirs from the fields. "
            f"Put extra set-up in __post_init__(self)"
        )
    options._raw = _collect_fields(cls, options._raw)
    cls._options = options
    values = _values_getter(list(options._raw))
    cls._strm_values = staticmethod(values)  # type: ignore[assignment]
    if options.abstract:
        cls.__init__ = Record.__init__  # type: ignore[method-assign]
        cls._strm_build = staticmethod(_abstract_build(cls))  # type: ignore[assignment]
        options.compiled = True
        try:
            annotations = _resolve(cls, options._raw)
        except NameError:
            annotations = _unresolved(options._raw)
        _bind_descriptors(cls, options, annotations)
        return
    namespaces.register(cls, options.namespace)
    try:
        _compile(cls)
    except NameError:
        # A forward reference to a class defined later in the module (mutually nested
        # records): resolve and compile on first use instead.
        _bind_descriptors(cls, options, _unresolved(options._raw))
        _install_pending(cls)


def _collect_fields(cls: type[Record], inherited: dict[str, RawField]) -> dict[str, RawField]:
    raw = dict(inherited)
    own = inspect.get_annotations(cls)
    globalns = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
    seen_default: list[str] = []
    for name, annotation in own.items():
        if _is_classvar(annotation):
            continue
        if name.startswith("_strm_") or name in _RESERVED:
            raise TypeError(
                f"{cls.__qualname__}: a field cannot be named {name!r}: it would hide Record.{name}"
            )
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, FieldDescriptor) else None
        has_default = spec.has_default if spec is not None else value is not MISSING
        if has_default:
            seen_default.append(name)
        elif seen_default and name not in inherited:
            raise TypeError(
                f"{cls.__qualname__}: field {name!r} has no default but follows "
                f"{', '.join(seen_default)}, which {'has' if len(seen_default) == 1 else 'have'} "
                f"one; positional arguments would be ambiguous"
            )
        raw[name] = RawField(annotation, globalns, cls, spec, None if spec else value)
    # A subclass may change an inherited field's default without annotating it again.
    for name, field in inherited.items():
        if name in own or name not in cls.__dict__:
            continue
        value = cls.__dict__[name]
        if isinstance(value, FieldDescriptor):
            raw[name] = RawField(field.annotation, field.globalns, field.owner, value, None)
        else:
            spec = field.spec.with_default(value) if field.spec is not None else None
            raw[name] = RawField(field.annotation, field.globalns, field.owner, spec, value)
    return raw


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


def _resolve(cls: type[Record], raw: dict[str, RawField]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, field in raw.items():
        holder = types.SimpleNamespace(
            __annotations__={name: field.annotation}, __globals__=field.globalns
        )
        local = {field.owner.__name__: field.owner, cls.__name__: cls}
        resolved[name] = typing.get_type_hints(holder, localns=local)[name]
    return resolved


def _unresolved(raw: dict[str, RawField]) -> dict[str, Any]:
    return {name: field.annotation for name, field in raw.items()}


def _bind_descriptors(
    cls: type[Record], options: ModelOptions, annotations: dict[str, Any]
) -> None:
    descriptors: dict[str, FieldDescriptor] = {}
    defaults: dict[str, Any] = {}
    for name, field in options._raw.items():
        tp = annotations[name]
        spec = field.spec
        if spec is None:
            spec = field_for_type(tp)(default=field.default)
        if spec.required and spec.required_given is None and _is_optional(tp):
            spec = spec.with_default(None)  # Optional[X] without a default defaults to None
        descriptor = spec.bind(cls, name, tp)
        descriptors[name] = descriptor
        if not descriptor.required:
            defaults[name] = descriptor.default
        setattr(cls, name, descriptor)
    options.fields = dict(annotations)
    options.descriptors = descriptors
    options.defaults = defaults


def _is_optional(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return (origin is typing.Union or origin is types.UnionType) and _NoneType in typing.get_args(
        tp
    )


def _values_getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


# -- compilation ---------------------------------------------------------------------------------


def _compile(cls: type[Record]) -> None:
    """Resolve annotations and generate the per-class functions (once per class)."""
    options = cls._options
    if options.compiled:
        return
    annotations = _resolve(cls, options._raw)
    _bind_descriptors(cls, options, annotations)
    fields = [_compile_field(cls, options, d) for d in options.descriptors.values()]
    options.validators = [(f.name, f.validator) for f in fields]
    post_init = callable(getattr(cls, "__post_init__", None))
    init, build = generate_constructors(cls, fields, options.validation, post_init)
    cls.__init__ = init  # type: ignore[method-assign]
    cls._strm_build = staticmethod(build)  # type: ignore[method-assign,assignment]
    to_representation = generate_representation(cls, fields)
    to_representation.__doc__ = Record.to_representation.__doc__
    asdict = generate_asdict(cls, fields)
    asdict.__doc__ = Record.asdict.__doc__
    cls.to_representation = to_representation  # type: ignore[method-assign,assignment]
    cls.asdict = asdict  # type: ignore[method-assign,assignment]
    cls._strm_json = generate_json(cls, fields)  # type: ignore[method-assign,assignment]
    options.compiled = True


def _compile_field(cls: type[Record], options: ModelOptions, d: FieldDescriptor) -> Field:
    ctx = Context(
        coerce=options.coerce if d.coerce is None else d.coerce,
        date_parser=d.date_parser or options.date_parser or dt.datetime.fromisoformat,
        coercions=options.coercions,
        polymorphic=options.polymorphic_fields,
        is_model=_is_model,
        model_handler=_model_handler,
        dump_model=_dump_model,
    )
    handler = compile_type(d.type, ctx)
    if not d.required and d.default is None:
        handler = optional(handler)  # `x: int = None` accepts None, as in Faust
    convert = handler.convert
    if d.has_prepare:
        prepare, after = d.prepare, convert
        convert = prepare if after is None else (lambda v: after(prepare(v)))
    if d.has_prepare_value:
        custom, before = _custom_prepare(d, ctx.coerce), convert
        convert = custom if before is None else (lambda v: custom(before(v)))
    dump = handler.dump
    if d.has_dump:
        own, after_dump = d.dump_value, dump
        dump = own if after_dump is None else (lambda v: after_dump(own(v)))
    return Field(d.field, d, convert, _validator(d, handler), dump, d.default_factory())


def _custom_prepare(d: FieldDescriptor, coerce: bool) -> Callable[[Any], Any]:
    prepare_value = d.prepare_value

    def prepare(value: Any) -> Any:
        return prepare_value(value, coerce=coerce)

    return prepare


def _validator(d: FieldDescriptor, handler: Handler) -> Callable[[Any], ValidationError | None]:
    check, expected, name = handler.check, handler.name, d.field
    constraint = d.constraint if d.has_constraints else None
    custom = d.validate if d.has_custom_validate else None

    def validate(value: Any) -> ValidationError | None:
        if not check(value):
            return ValidationError(
                f"{name}: expected {expected}, got {show(value)}",
                field=name,
                expected=expected,
                value=value,
            )
        if constraint is not None and value is not None:
            reason = constraint(value)
            if reason is not None:
                return ValidationError(
                    f"{name}: {reason}, got {show(value)}",
                    field=name,
                    expected=expected,
                    value=value,
                )
        if custom is not None and value is not None:
            for problem in custom(value):
                return problem  # one error per field, as for the built-in checks
        return None

    return validate


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Record)


def _model_handler(model: type[Record], ctx: Context) -> Handler:
    # Nested records are built with from_data (which picks the subclass a payload names) unless
    # the model turned polymorphic_fields off; the class may still be waiting for a forward
    # reference, so nothing here touches its fields.
    polymorphic = ctx.polymorphic

    def check(value: Any) -> bool:
        return isinstance(value, model)

    def convert(value: Any) -> Any:
        if isinstance(value, model) or not isinstance(value, Mapping):
            return value
        if polymorphic:
            return model.from_data(value)
        return model._strm_build(value)

    return Handler(model.__qualname__, check, convert, _dump_model)


def _dump_model(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_representation()
    return value


def try_compile(cls: type[Record]) -> bool:
    """Compile ``cls`` if its annotations resolve by now; whether it is compiled."""
    try:
        _compile(cls)
    except NameError:
        return False
    return True


def _install_pending(cls: type[Record]) -> None:
    """Stand-ins that compile ``cls`` on first use, then hand over to the generated code."""

    def ensure() -> None:
        try:
            _compile(cls)
        except NameError as exc:
            raise TypeError(
                f"cannot resolve the field annotations of {cls.__qualname__}: {exc}"
            ) from exc

    def init(self: Record, *args: Any, **kwargs: Any) -> None:
        ensure()
        cls.__init__(self, *args, **kwargs)

    def build(data: Any) -> Any:
        ensure()
        return cls._strm_build(data)

    def to_representation(self: Record) -> dict[str, Any]:
        ensure()
        return cls.to_representation(self)

    def asdict(self: Record) -> dict[str, Any]:
        ensure()
        return cls.asdict(self)

    cls.__init__ = init  # type: ignore[method-assign]
    cls._strm_build = staticmethod(build)  # type: ignore[method-assign]
    cls.to_representation = to_representation  # type: ignore[method-assign]

    def to_json(self: Record) -> str:
        ensure()
        return cls._strm_json(self)

    cls.asdict = asdict  # type: ignore[method-assign]
    cls._strm_json = to_json  # type: ignore[method-assign,assignment]
