"""Record class options: what a class statement may set, checked once at class creation.

Split from :mod:`strm.models.record`: the options and the field index a record class keeps
(``cls._options``), apart from the code that builds and compiles the class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import ValidationError
from strm.kernel.spi import Codec
from strm.models.fields import FieldDescriptor

if TYPE_CHECKING:
    from strm.models.record import Record

REFUSED_OPTIONS = {
    "allow_blessed_key": "strm always builds the subclass a payload's namespace names when it "
    "is a subclass of the class being decoded",
    "lazy_creation": "strm resolves forward references on first use by itself",
}


class ModelOptions:
    """A record class's options and its field index (``Model._options``).

    ``fields`` maps field names to their (resolved) annotations, ``descriptors`` to their
    :class:`FieldDescriptor`, ``defaults`` to the defaults of optional fields.
    """

    serializer: str | Codec | None = None
    namespace: str = ""
    include_metadata: bool = True
    validation: bool = False
    coerce: bool = False
    polymorphic_fields: bool = True
    date_parser: Callable[[str], dt.datetime] | None = None
    abstract: bool = False

    def __init__(self) -> None:
        self.coercions: dict[type, Callable[[Any], Any]] = {}
        self.fields: dict[str, Any] = {}
        self.descriptors: dict[str, FieldDescriptor] = {}
        self.defaults: dict[str, Any] = {}
        self.compiled = False
        self.validators: list[tuple[str, Callable[[Any], ValidationError | None]]] = []
        #: The codec ``dumps``/``loads`` resolved from ``serializer``, kept after first use.
        self.codec: Codec | None = None
        self._raw: dict[str, RawField] = {}

    def inherit(self) -> ModelOptions:
        """A copy for a subclass: same options, fields to be recomputed."""
        child = ModelOptions()
        for name in (
            "serializer",
            "include_metadata",
            "validation",
            "coerce",
            "polymorphic_fields",
            "date_parser",
        ):
            setattr(child, name, getattr(self, name))
        child.coercions = dict(self.coercions)
        child._raw = dict(self._raw)
        return child

    # Faust's names for views of the field index, and its switches strm keeps always on.

    @property
    def fieldset(self) -> frozenset[str]:
        return frozenset(self.fields)

    @property
    def fieldpos(self) -> dict[int, str]:
        """Field names by positional-argument index."""
        return dict(enumerate(self.fields))

    @property
    def optionalset(self) -> frozenset[str]:
        return frozenset(self.defaults)

    isodates = True
    decimals = True

    def __repr__(self) -> str:
        return f"<ModelOptions {self.namespace}: {list(self._raw)}>"


@dataclass(frozen=True, slots=True)
class RawField:
    """A field as declared, before its annotation is resolved."""

    annotation: Any
    globalns: dict[str, Any]
    owner: type
    spec: FieldDescriptor | None
    default: Any


def apply_options(cls: type[Record], options: ModelOptions, given: dict[str, Any]) -> None:
    for name, value in given.items():
        if name in REFUSED_OPTIONS:
            raise TypeError(
                f"{cls.__qualname__}: strm does not support the model option {name!r}: "
                f"{REFUSED_OPTIONS[name]}"
            )
        if name in ("isodates", "decimals"):
            if value is not True:
                raise TypeError(
                    f"{cls.__qualname__}: {name}={value!r} is not supported: strm always "
                    f"parses {'ISO 8601 dates' if name == 'isodates' else 'decimal strings'} "
                    f"for fields of that type"
                )
            continue
        if name in ("include_metadata", "validation", "coerce", "polymorphic_fields", "abstract"):
            if not isinstance(value, bool):
                raise TypeError(f"{cls.__qualname__}: option {name} takes a bool, not {value!r}")
            setattr(options, name, value)
        elif name == "serializer":
            if not isinstance(value, str | Codec):
                raise TypeError(
                    f"{cls.__qualname__}: serializer must be a codec name or codec object, "
                    f"not {value!r}"
                )
            options.serializer = value
        elif name == "namespace":
            if not isinstance(value, str) or not value:
                raise TypeError(f"{cls.__qualname__}: namespace must be a non-empty string")
        elif name == "date_parser":
            if not callable(value):
                raise TypeError(f"{cls.__qualname__}: date_parser must be callable")
            options.date_parser = value
        elif name == "coercions":
            if not isinstance(value, Mapping) or not all(
                isinstance(k, type) and callable(v) for k, v in value.items()
            ):
                raise TypeError(f"{cls.__qualname__}: coercions must map types to functions")
            options.coercions.update(value)
        else:
            raise TypeError(
                f"{cls.__qualname__}: unknown model option {name!r}; strm supports "
                f"serializer, namespace, include_metadata, validation, coerce, "
                f"polymorphic_fields, date_parser, coercions, isodates, decimals and abstract"
            )
    if given.get("validation") and "coerce" not in given:
        options.coerce = True
    options.namespace = given.get("namespace") or f"{cls.__module__}.{cls.__qualname__}"
