"""Field descriptors: what ``Point.x`` returns on a record class.

Every field of a record gets a :class:`FieldDescriptor` as its class attribute. It describes the
field (name, type, default, owning model) and extracts the field's value from an instance, which
is what ``stream.group_by(Word.word)`` needs. Fields of a nested record chain:
``Order.customer.name.getattr(order)`` returns ``order.customer.name``.

Declaring a descriptor as the default adds per-field options::

    class Payment(strm.Record, validation=True):
        amount: Decimal = DecimalField(max_decimal_places=2, min_value=0)
        memo: str = StringField(default="", max_length=140, trim_whitespace=True, output_name="m")

The descriptor is non-data (``__get__`` only), so reading ``payment.amount`` finds the value in
the instance ``__dict__`` without a Python-level call: field access costs what a plain attribute
costs.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import types
from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from strm.kernel.errors import ValidationError
from strm.models.types import type_name

if TYPE_CHECKING:
    from strm.models.record import Record

__all__ = [
    "BooleanField",
    "BytesField",
    "CharField",
    "DatetimeField",
    "DecimalField",
    "FieldDescriptor",
    "FloatField",
    "IntegerField",
    "NumberField",
    "StringField",
    "field_for_type",
]


class _Missing:
    """The marker for "no value given" (``None`` is a legitimate value and default)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FieldDescriptor:
    """One field of a record class.

    Options (all keyword-only):

    * ``required``: whether input must supply the field; by default a field is required exactly
      when it has no default. ``required=False`` without a default makes the default ``None``.
    * ``default``: the value when input leaves the field out. ``list``, ``dict`` and ``set``
      defaults are copied per instance, so records never share a mutable default.
    * ``input_name``: the key read from incoming data (``from_data``/``loads``), when the
      producer's name differs from the attribute name (default: ``output_name``, so a record
      reads back what it writes).
    * ``output_name``: the key written by ``to_representation``/``dumps``.
    * ``exclude``: leave the field out of ``asdict``, ``to_representation`` and ``dumps``.
    * ``coerce``: override the model's ``coerce`` option for this field.
    * ``date_parser``: override the model's ``date_parser`` for this field.

    A subclass of your own (Faust's custom field types: ``ChoiceField(FieldDescriptor[str])``)
    may take further keyword options, kept in ``options``, and override :meth:`validate` to
    report its own problems (built with :meth:`validation_error`) and :meth:`prepare_value` to
    convert input. strm's own field classes refuse options they do not know, so a misspelt
    limit is an error rather than no limit.

    Once bound to a class, ``field``, ``type``, ``model``, ``required``, ``default`` and ``path``
    (dotted, from the outermost model) describe it.
    """

    field: str
    type: Any
    model: type[Record]
    parent: FieldDescriptor | None
    path: str

    def __init__(
        self,
        *,
        required: bool | None = None,
        default: Any = MISSING,
        input_name: str | None = None,
        output_name: str | None = None,
        exclude: bool = False,
        coerce: bool | None = None,
        date_parser: Callable[[str], dt.datetime] | None = None,
        **options: Any,
    ) -> None:
        if options and type(self).__module__ == __name__:
            raise TypeError(
                f"{type(self).__name__} does not take the option(s) {', '.join(sorted(options))}"
            )
        if required and default is not MISSING:
            raise TypeError("a field cannot be required and have a default at once")
        if required is False and default is MISSING:
            default = None
        self.required_given = required
        self.required = default is MISSING
        self.default = None if default is MISSING else default
        self._default = default
        self.input_name = input_name
        self.output_name = output_name
        self.exclude = exclude
        self.coerce = coerce
        self.date_parser = date_parser
        self.options = options
        self.field = ""
        self.type = Any
        self.parent = None
        self.path = ""
        self._getter: Callable[[Any], Any] = _unbound
        self._chained: dict[str, FieldDescriptor] = {}

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        # ``FieldDescriptor[str]``: Faust's descriptors are generic in their value type.
        return types.GenericAlias(cls, item)

    # -- binding to a model ----------------------------------------------------------------------

    def bind(self, model: type[Record], field: str, annotation: Any) -> FieldDescriptor:
        """A copy of this descriptor attached to ``model`` as ``field``.

        Each class gets its own copies, so an inherited field reports the subclass as its
        ``model``.
        """
        bound = copy.copy(self)
        bound.model = model
        bound.field = field
        bound.type = annotation
        # Reading what was written must work: input_name defaults to output_name.
        bound.input_name = self.input_name or self.output_name or field
        bound.output_name = self.output_name or field
        bound.parent = None
        bound.path = field
        bound._getter = attrgetter(field)
        bound._chained = {}
        return bound

    def with_default(self, default: Any) -> FieldDescriptor:
        """A copy with another default (a subclass assigning a new default to a field)."""
        changed = copy.copy(self)
        changed._default = default
        changed.default = default
        changed.required = False
        return changed

    @property
    def has_default(self) -> bool:
        return self._default is not MISSING

    def default_factory(self) -> Callable[[], Any] | None:
        """A function making a fresh default per instance, for mutable defaults."""
        default = self._default
        if isinstance(default, list | dict | set | bytearray):
            return lambda: copy.copy(default)
        return None

    # -- per-field behaviour subclasses add ------------------------------------------------------

    def prepare(self, value: Any) -> Any:
        """Adjust an input value before type conversion (overridden by typed fields)."""
        return value

    def dump_value(self, value: Any) -> Any:
        """Adjust an output value after type conversion (overridden by typed fields)."""
        return value

    def constraint(self, value: Any) -> str | None:
        """A reason the (well-typed) value breaks this field's limits, else ``None``."""
        return None

    def validate(self, value: Any) -> Iterable[ValidationError]:
        """The problems of a (well-typed, not ``None``) value that a custom field type finds."""
        return ()

    def validation_error(self, reason: str) -> ValidationError:
        """A validation error about this field, for :meth:`validate` to yield."""
        return ValidationError(reason, field=self.field, expected=type_name(self.type))

    def prepare_value(self, value: Any, *, coerce: bool | None = None) -> Any:
        """Convert an input value after the type's own conversion (custom field types)."""
        return value

    @property
    def has_custom_validate(self) -> bool:
        return type(self).validate is not FieldDescriptor.validate

    @property
    def has_prepare_value(self) -> bool:
        return type(self).prepare_value is not FieldDescriptor.prepare_value

    # The ``has_*`` flags let the record skip a call per field per event when a hook would do
    # nothing with the options given.

    @property
    def has_prepare(self) -> bool:
        return False

    @property
    def has_dump(self) -> bool:
        return False

    @property
    def has_constraints(self) -> bool:
        return False

    # -- access ----------------------------------------------------------------------------------

    def getattr(self, obj: Any) -> Any:
        """The field's value on ``obj``, following the chain for nested fields."""
        return self._getter(obj)

    @property
    def ident(self) -> str:
        """``Model.field``: the name Faust gives the field (repartition topics use it)."""
        return f"{self.model.__name__}.{self.field}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            model = self.__dict__.get("model")
            if model is not None and not model._options.compiled:
                # A record waiting for a forward reference: resolve it now if possible, so
                # ``type`` is the real type, and hand out the descriptor bound to it.
                from strm.models.record import try_compile

                if try_compile(model):
                    found: FieldDescriptor = model.__dict__.get(self.field, self)
                    return found
            return self
        # Values live in the instance __dict__, which Python consults before this non-data
        # descriptor; getting here means the attribute was deleted.
        raise AttributeError(f"{type(instance).__name__!r} object has no value for {self.field!r}")

    def __getattr__(self, name: str) -> FieldDescriptor:
        # Only reached for names that are not descriptor attributes: a field of the nested model.
        if name.startswith("_"):
            raise AttributeError(name)
        state = self.__dict__
        chained: dict[str, FieldDescriptor] | None = state.get("_chained")
        if chained is None:
            raise AttributeError(name)
        found = chained.get(name)
        if found is not None:
            return found
        model = _nested_model(state.get("type"))
        if model is None:
            raise AttributeError(
                f"{self.ident} is of type {type_name(state.get('type'))}, not a record: "
                f"it has no field {name!r}"
            )
        inner = model._options.descriptors.get(name)
        if inner is None:
            raise AttributeError(f"{model.__qualname__} has no field {name!r}")
        link = copy.copy(inner)
        link.parent = self
        link.path = f"{self.path}.{inner.field}"
        link._getter = attrgetter(link.path)
        link._chained = {}
        chained[name] = link
        return link

    def __repr__(self) -> str:
        default = "" if self.required else f" = {self.default!r}"
        root = self
        while root.parent is not None:
            root = root.parent
        where = f"{root.model.__name__}.{self.path}" if self.field else "unbound"
        return f"<{type(self).__name__}: {where}: {type_name(self.type)}{default}>"


def _unbound(obj: Any) -> Any:
    raise TypeError("this field descriptor is not attached to a model class")


def _nested_model(tp: Any) -> type[Record] | None:
    from strm.models.record import Record

    if get_origin(tp) is Union or type(tp).__name__ == "UnionType":
        members = [a for a in get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else None
    if isinstance(tp, type) and issubclass(tp, Record):
        return tp
    return None


# -- typed fields --------------------------------------------------------------------------------


class BooleanField(FieldDescriptor):
    """A ``bool`` field (type checks come from the annotation; no extra limits)."""


class NumberField(FieldDescriptor):
    """A number with optional inclusive ``min_value``/``max_value`` (checked by validation)."""

    def __init__(
        self,
        *,
        min_value: int | float | Decimal | None = None,
        max_value: int | float | Decimal | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.min_value = min_value
        self.max_value = max_value

    @property
    def has_constraints(self) -> bool:
        return self.min_value is not None or self.max_value is not None

    def constraint(self, value: Any) -> str | None:
        if self.min_value is not None and value < self.min_value:
            return f"must be at least {self.min_value}"
        if self.max_value is not None and value > self.max_value:
            return f"must be at most {self.max_value}"
        return None


class IntegerField(NumberField):
    """An ``int`` with optional limits."""


class FloatField(NumberField):
    """A ``float`` with optional limits.

    NaN and the infinities are validation errors unless ``allow_nan=True`` (the name
    ``json.dumps`` uses for the same choice): JSON from most producers cannot carry them, and
    one NaN makes every sum or average it enters NaN, so accepting them is a choice per field.
    """

    def __init__(self, *, allow_nan: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.allow_nan = allow_nan

    @property
    def has_constraints(self) -> bool:
        return not self.allow_nan or super().has_constraints

    def constraint(self, value: Any) -> str | None:
        if not self.allow_nan and isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        return super().constraint(value)


class DecimalField(NumberField):
    """A ``Decimal`` with optional limits on its value, digits and decimal places.

    Non-finite values (NaN, infinities) are validation errors, never ``TypeError``.
    """

    def __init__(
        self,
        *,
        max_digits: int | None = None,
        max_decimal_places: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.max_digits = max_digits
        self.max_decimal_places = max_decimal_places

    @property
    def has_constraints(self) -> bool:
        limits = (self.max_digits, self.max_decimal_places, self.min_value, self.max_value)
        return any(limit is not None for limit in limits)

    def constraint(self, value: Any) -> str | None:
        if not value.is_finite():
            return f"{value} is not a finite number"
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite decimals have an integer exponent
        digits = len(value.as_tuple().digits)
        places = -exponent if exponent < 0 else 0
        total = max(digits, places) if exponent < 0 else digits + exponent
        if self.max_decimal_places is not None and places > self.max_decimal_places:
            return f"must have at most {self.max_decimal_places} decimal places"
        if self.max_digits is not None and total > self.max_digits:
            return f"must have at most {self.max_digits} digits"
        return super().constraint(value)


class CharField(FieldDescriptor):
    """Text (or bytes) with optional length limits, blank check and whitespace trimming.

    ``trim_whitespace`` strips input on the way in; ``allow_blank=False`` makes an empty value a
    validation error.
    """

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        trim_whitespace: bool = False,
        allow_blank: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.min_length = min_length
        self.max_length = max_length
        self.trim_whitespace = trim_whitespace
        self.allow_blank = allow_blank

    @property
    def has_prepare(self) -> bool:
        return self.trim_whitespace

    @property
    def has_constraints(self) -> bool:
        limits = (self.min_length, self.max_length)
        return not self.allow_blank or any(limit is not None for limit in limits)

    def prepare(self, value: Any) -> Any:
        if self.trim_whitespace and isinstance(value, str | bytes):
            return value.strip()
        return value

    def constraint(self, value: Any) -> str | None:
        length = len(value)
        if not self.allow_blank and not length:
            return "cannot be blank"
        if self.min_length is not None and length < self.min_length:
            return f"must have at least {self.min_length} characters"
        if self.max_length is not None and length > self.max_length:
            return f"must have at most {self.max_length} characters"
        return None


class StringField(CharField):
    """A ``str`` field with :class:`CharField` options."""


class BytesField(CharField):
    """A ``bytes`` field; text input and output use ``encoding``/``errors``.

    The default, UTF-8 with ``surrogateescape``, is what every ``bytes`` field does: any byte
    string survives a JSON round trip, and valid UTF-8 reads as plain text (as Faust writes it).
    """

    def __init__(
        self, *, encoding: str = "utf-8", errors: str = "surrogateescape", **options: Any
    ) -> None:
        super().__init__(**options)
        self.encoding = encoding
        self.errors = errors

    @property
    def _custom_text(self) -> bool:
        return (self.encoding, self.errors) != ("utf-8", "surrogateescape")

    @property
    def has_prepare(self) -> bool:
        return self._custom_text or self.trim_whitespace

    @property
    def has_dump(self) -> bool:
        return self._custom_text

    def prepare(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.encode(self.encoding, self.errors)
        return super().prepare(value)

    def dump_value(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode(self.encoding, self.errors)
        return value


class DatetimeField(FieldDescriptor):
    """A ``datetime`` field; ``date_parser`` reads its input strings (ISO 8601 by default)."""


_FIELD_FOR_TYPE: dict[Any, type[FieldDescriptor]] = {
    bool: BooleanField,
    int: IntegerField,
    float: FloatField,
    Decimal: DecimalField,
    str: StringField,
    bytes: BytesField,
    dt.datetime: DatetimeField,
}


def field_for_type(tp: Any) -> type[FieldDescriptor]:
    """The descriptor class a field annotated ``tp`` gets when it does not declare one."""
    if get_origin(tp) is Union or type(tp).__name__ == "UnionType":
        members = [a for a in get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else None
    found = _FIELD_FOR_TYPE.get(tp)
    if found is None and isinstance(tp, type):
        found = next((f for t, f in _FIELD_FOR_TYPE.items() if issubclass(tp, t)), None)
    return found or FieldDescriptor
