"""``strm.Schema``: how one channel's keys and values become bytes and back.

A schema pairs a type with a codec for the key and for the value::

    Schema(key_type=str, value_type=Order, value_serializer="json")

It decides the codec (its own serializer, else the model's ``serializer`` option, else the app's
default from :class:`~strm.codecs.registry.Serializers`) and turns the decoded payload into the
declared type. Which steps a type needs is decided once, in ``__init__``; decoding an event then
calls one prepared function.

Types:

* a :class:`~strm.Record` subclass: decoded then built with ``from_data`` (validation and
  namespace polymorphism included). An empty (``None``) payload is refused unless
  ``allow_empty=True`` (a tombstone on a compacted topic, for instance). When neither the schema
  nor the model names a codec and the app's default is ``raw`` (as it is for keys), JSON is used:
  raw bytes cannot carry a record's fields.
* ``bytes``: the payload as it is; ``str``: the payload as UTF-8 (both ignore the app's default
  codec, as Faust does, unless the schema names a serializer).
* ``int``, ``float``, ``Decimal``: decoded with the codec, then parsed (``b"42"`` from the raw
  codec and ``42`` from JSON both give ``42``). With the raw codec they are written as text;
  a ``Decimal`` is always written as its text, so no digit is lost.
* ``None`` (untyped): whatever the codec gives, except that a mapping naming a registered model
  namespace becomes that model (as Faust does for untyped topics).
* a type a plugin's model type handles (``strm_model_types``: a marshmallow ``Schema``, for
  instance): decoded with the codec (JSON rather than raw, as for records), then loaded by the
  model type, whose validation errors are decode errors; sent through its ``dump``.
* any other type: whatever the codec gives.

Failures raise :class:`~strm.kernel.errors.KeyDecodeError` or
:class:`~strm.kernel.errors.ValueDecodeError` with the cause chained (a model's validation errors
included); an unknown codec name raises
:class:`~strm.kernel.errors.ConfigurationError`, because no payload would ever decode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from strm.codecs.builtin import JsonCodec, RawCodec
from strm.codecs.registry import Serializers
from strm.kernel.errors import CodecError, KeyDecodeError, ValueDecodeError
from strm.kernel.spi import Codec
from strm.models import namespaces
from strm.models.record import Record

__all__ = ["Schema"]

Loader = Callable[[Serializers, bytes | None], Any]
#: A loader bound to one app's serializers: what a subscription calls per record.
BoundLoader = Callable[[bytes | None], Any]
Dumper = Callable[[Serializers, Any], bytes | None]
#: A dumper bound to one app's serializers: what a checkpoint calls per changelog record.
BoundDumper = Callable[[Any], bytes | None]
#: Payload classes that an untyped side hands to its codec as they are: no record, ``Decimal``
#: or plugin model type among them, so none of the general dumper's checks can apply.
_PLAIN_PAYLOADS = frozenset({str, int, float, bool, dict, list})
_NUMBERS = (int, float, Decimal)


class Schema:
    """Key and value types and codecs of a channel or topic."""

    def __init__(
        self,
        *,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        allow_empty: bool = False,
    ) -> None:
        for name, serializer in (("key", key_serializer), ("value", value_serializer)):
            if serializer is not None and not isinstance(serializer, str | Codec):
                raise TypeError(
                    f"{name}_serializer must be a codec name or codec object, not {serializer!r}"
                )
        self.key_type = key_type
        self.value_type = value_type
        self.key_serializer = key_serializer
        self.value_serializer = value_serializer
        self.allow_empty = allow_empty
        self._load_key = _loader(_KEY, key_type, key_serializer, allow_empty)
        self._load_value = _loader(_VALUE, value_type, value_serializer, allow_empty)
        self._dump_key = _dumper(_KEY, key_type, key_serializer)
        self._dump_value = _dumper(_VALUE, value_type, value_serializer)

    def check_codecs(self, serializers: Serializers, where: str) -> None:
        """Resolve every codec this schema names now, so an unknown one is a configuration
        error at start-up rather than a decode error on every record."""
        for side, tp, spec in (
            ("key", self.key_type, self.key_serializer),
            ("value", self.value_type, self.value_serializer),
        ):
            if spec is None and isinstance(tp, type) and issubclass(tp, Record):
                spec = tp._options.serializer
                setting = f"{where}: {tp.__qualname__} serializer"
            else:
                setting = f"{where}: {side}_serializer"
            if spec is not None:
                serializers.codec(spec, setting=setting)

    def loads_key(self, serializers: Serializers, data: bytes | None) -> Any:
        return self._load_key(serializers, data)

    def loads_value(self, serializers: Serializers, data: bytes | None) -> Any:
        return self._load_value(serializers, data)

    def dumps_key(self, serializers: Serializers, key: Any) -> bytes | None:
        return self._dump_key(serializers, key)

    def bind(self, serializers: Serializers) -> tuple[BoundLoader | None, BoundLoader]:
        """The key and value decoders for one app's serializers, prepared once per subscription
        so that a record costs one call each. The key's is ``None`` when keys need no decoding
        at all (untyped or ``bytes`` with the raw codec: the payload is the key).

        The common cases (untyped values, records) call the codec directly; anything a subclass
        of :class:`Schema` or :class:`Serializers` overrides goes through the overriding method.
        """
        plain = type(serializers).loads_key is Serializers.loads_key
        key_loader: BoundLoader | None
        if (
            type(self).loads_key is Schema.loads_key
            and plain
            and self.key_type in (None, bytes)
            and self.key_serializer is None
            and isinstance(serializers.key_codec, RawCodec)
        ):
            key_loader = None
        elif (
            type(self).loads_key is Schema.loads_key
            and self.key_type is str
            and self.key_serializer is None
        ):
            key_loader = _bound_text_loader(_KEY, functools.partial(self.loads_key, serializers))
        else:
            key_loader = functools.partial(self.loads_key, serializers)
        value_loader: BoundLoader | None = None
        if (
            type(self).loads_value is Schema.loads_value
            and type(serializers).loads_value is Serializers.loads_value
        ):
            value_loader = _bound_value_loader(self, serializers)
        if value_loader is None:
            value_loader = functools.partial(self.loads_value, serializers)
        return key_loader, value_loader

    def dumps_value(self, serializers: Serializers, value: Any) -> bytes | None:
        return self._dump_value(serializers, value)

    def bind_dumps(self, serializers: Serializers) -> tuple[BoundDumper, BoundDumper]:
        """The key and value encoders for one app's serializers, prepared once (per table):
        an untyped side calls its codec directly for plain payloads, so a changelog record
        costs one call each instead of the general dumper's chain. Anything a subclass of
        :class:`Schema` or :class:`Serializers` overrides goes through the overriding method.
        """
        key: BoundDumper = functools.partial(self.dumps_key, serializers)
        value: BoundDumper = functools.partial(self.dumps_value, serializers)
        if _custom_dumps(serializers):
            return key, value
        if type(self).dumps_key is Schema.dumps_key and self.key_type is None:
            key = _bound_plain_dumper(_KEY, serializers, self.key_serializer, key)
        if type(self).dumps_value is Schema.dumps_value and self.value_type is None:
            value = _bound_plain_dumper(_VALUE, serializers, self.value_serializer, value)
        return key, value

    def __repr__(self) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in (
                ("key_type", self.key_type),
                ("value_type", self.value_type),
                ("key_serializer", self.key_serializer),
                ("value_serializer", self.value_serializer),
            )
            if value is not None
        ]
        if self.allow_empty:
            parts.append("allow_empty=True")
        return f"Schema({', '.join(parts)})"


class _Side:
    """What differs between keys and values: the error class and the Serializers methods."""

    def __init__(self, name: str, error: type[CodecError], is_key: bool) -> None:
        self.name = name
        self.error = error
        self.is_key = is_key

    def loads(self, serializers: Serializers, data: bytes, codec: str | Codec | None) -> Any:
        if self.is_key:
            return serializers.loads_key(data, codec)
        return serializers.loads_value(data, codec)

    def dumps(self, serializers: Serializers, obj: Any, codec: str | Codec | None) -> bytes | None:
        if self.is_key:
            return serializers.dumps_key(obj, codec)
        return serializers.dumps_value(obj, codec)

    def default_codec(self, serializers: Serializers) -> Codec:
        return serializers.key_codec if self.is_key else serializers.value_codec


_KEY = _Side("key", KeyDecodeError, is_key=True)
_VALUE = _Side("value", ValueDecodeError, is_key=False)


# -- decoding ------------------------------------------------------------------------------------


def _loader(side: _Side, tp: Any, serializer: str | Codec | None, allow_empty: bool) -> Loader:
    if isinstance(tp, type) and issubclass(tp, Record):
        return _model_loader(side, tp, serializer, allow_empty)
    if tp is bytes or tp is str:
        return _text_loader(side, tp, serializer)
    if tp in _NUMBERS:
        return _number_loader(side, tp, serializer)
    if tp is None:
        return _untyped_loader(side, serializer)
    return _foreign_loader(side, tp, serializer, allow_empty)


def _model_loader(
    side: _Side, model: type[Record], serializer: str | Codec | None, allow_empty: bool
) -> Loader:
    codec_spec = serializer or model._options.serializer
    where = f"{model.__qualname__} serializer" if serializer is None else f"{side.name}_serializer"
    error = side.error
    label = f"{side.name} as {model.__qualname__}"

    def load(serializers: Serializers, data: bytes | None) -> Any:
        if data is None:
            if allow_empty:
                return None
            raise error(
                f"empty {label} (a tombstone?): set allow_empty=True to receive None instead"
            )
        codec = _model_codec(serializers, side, codec_spec, where)
        obj = side.loads(serializers, data, codec)
        try:
            return model.from_data(obj)
        except Exception as exc:
            raise error(f"cannot decode {label}: {type(exc).__name__}: {exc}") from exc

    return load


def _text_loader(side: _Side, tp: type, serializer: str | Codec | None) -> Loader:
    error = side.error
    want_text = tp is str

    def load(serializers: Serializers, data: bytes | None) -> Any:
        if data is None:
            return None
        obj: Any = data if serializer is None else side.loads(serializers, data, serializer)
        try:
            if want_text:
                return obj.decode() if isinstance(obj, bytes) else _expect(obj, str)
            return obj.encode() if isinstance(obj, str) else _expect(obj, bytes)
        except (UnicodeError, TypeError) as exc:
            raise error(
                f"cannot decode {side.name} as {tp.__name__}: {type(exc).__name__}: {exc}"
            ) from exc

    return load


def _expect(obj: Any, tp: type) -> Any:
    if isinstance(obj, bytearray | memoryview) and tp is bytes:
        return bytes(obj)
    if not isinstance(obj, tp):
        raise TypeError(f"the codec gave {type(obj).__name__}, not {tp.__name__}")
    return obj


def _number_loader(side: _Side, tp: type, serializer: str | Codec | None) -> Loader:
    error = side.error

    def parse(obj: Any) -> Any:
        if isinstance(obj, bytes | bytearray):
            obj = bytes(obj).decode()
        if isinstance(obj, str):
            return tp(obj.strip())
        if isinstance(obj, _NUMBERS) and not isinstance(obj, bool):
            if tp is Decimal and isinstance(obj, float):
                return Decimal(repr(obj))
            return tp(obj)
        raise TypeError(f"the codec gave {type(obj).__name__}, not a number")

    def load(serializers: Serializers, data: bytes | None) -> Any:
        if data is None:
            return None
        obj = side.loads(serializers, data, serializer)
        try:
            return parse(obj)
        except Exception as exc:  # ValueError, TypeError, decimal.InvalidOperation
            raise error(
                f"cannot decode {side.name} as {tp.__name__}: {type(exc).__name__}: {exc}"
            ) from exc

    return load


def _untyped_loader(side: _Side, serializer: str | Codec | None) -> Loader:
    def load(serializers: Serializers, data: bytes | None) -> Any:
        if data is None:
            return None
        return _by_namespace(side, side.loads(serializers, data, serializer))

    return load


def _by_namespace(side: _Side, obj: Any) -> Any:
    """An untyped payload, as the model its namespace names if it names a registered one."""
    namespace = namespaces.namespace_of(obj)
    if namespace is None:
        return obj
    model = namespaces.lookup(namespace)
    if model is None:
        return obj
    try:
        return model.from_data(obj)
    except Exception as exc:
        raise side.error(
            f"cannot decode {side.name} as {model.__qualname__} (named by its namespace): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _bound_text_loader(side: _Side, general: BoundLoader) -> BoundLoader:
    """``str`` with no serializer named: the payload as UTF-8, in one call."""
    error = side.error

    def load_text(data: bytes | None) -> Any:
        if data.__class__ is not bytes:
            return general(data)  # None, or a buffer the general loader converts
        try:
            return data.decode()
        except UnicodeError as exc:
            raise error(f"cannot decode {side.name} as str: {type(exc).__name__}: {exc}") from exc

    return load_text


def _bound_value_loader(schema: Schema, serializers: Serializers) -> BoundLoader | None:
    """A one-call decoder for untyped and record values, the codec resolved once; ``None`` for
    the other types, which keep their general loader."""
    tp = schema.value_type
    if tp is str and schema.value_serializer is None:
        return _bound_text_loader(_VALUE, functools.partial(schema.loads_value, serializers))
    if tp is None:
        codec = serializers.value_codec
        if schema.value_serializer is not None:
            codec = serializers.codec(schema.value_serializer, setting="value_serializer")
        codec_loads = codec.loads
        meta_keys = (namespaces.METADATA_KEY, namespaces.FAUST_METADATA_KEY)

        def load_untyped(data: bytes | None) -> Any:
            if data is None:
                return None
            try:
                obj = codec_loads(data)
            except Exception as exc:
                raise ValueDecodeError(f"cannot decode value: {type(exc).__name__}: {exc}") from exc
            # A payload that names no model (nearly all) costs one type check here.
            if isinstance(obj, dict) and (meta_keys[0] in obj or meta_keys[1] in obj):
                return _by_namespace(_VALUE, obj)
            return obj

        return load_untyped
    if isinstance(tp, type) and issubclass(tp, Record):
        spec = schema.value_serializer
        where = f"{tp.__qualname__} serializer" if spec is None else "value_serializer"
        record_loads = _model_codec(serializers, _VALUE, spec or tp._options.serializer, where)
        general = functools.partial(schema.loads_value, serializers)
        from_data = tp.from_data
        label = f"value as {tp.__qualname__}"

        def load_record(data: bytes | None) -> Any:
            if data is None:
                return general(data)  # the tombstone rules
            try:
                obj = record_loads.loads(data)
            except Exception as exc:
                raise ValueDecodeError(f"cannot decode value: {type(exc).__name__}: {exc}") from exc
            try:
                return from_data(obj)
            except Exception as exc:
                raise ValueDecodeError(
                    f"cannot decode {label}: {type(exc).__name__}: {exc}"
                ) from exc

        return load_record
    return None


def _foreign_loader(
    side: _Side, tp: Any, serializer: str | Codec | None, allow_empty: bool
) -> Loader:
    """Any other type: a plugin's model type loads it, if one handles it (which depends on the
    app's plugins, so it is asked when the first payload arrives); else the codec's result."""
    error = side.error
    label = f"{side.name} as {getattr(tp, '__qualname__', None) or type(tp).__qualname__}"
    where = f"{side.name}_serializer"

    def load(serializers: Serializers, data: bytes | None) -> Any:
        model_type = serializers.model_types.for_type(tp)
        if model_type is None:
            return None if data is None else side.loads(serializers, data, serializer)
        if data is None:
            if allow_empty:
                return None
            raise error(
                f"empty {label} (a tombstone?): set allow_empty=True to receive None instead"
            )
        obj = side.loads(serializers, data, _model_codec(serializers, side, serializer, where))
        try:
            return model_type.load(tp, obj)
        except Exception as exc:
            raise error(f"cannot decode {label}: {type(exc).__name__}: {exc}") from exc

    return load


def _model_codec(
    serializers: Serializers, side: _Side, spec: str | Codec | None, where: str
) -> Codec:
    """The codec for a record: the given spec, else the app's default, except that the raw codec
    (the default for keys), which cannot carry a record's fields, gives way to JSON."""
    if spec is not None:
        return serializers.codec(spec, setting=where)
    codec = side.default_codec(serializers)
    if isinstance(codec, RawCodec):
        return serializers.codec("json", setting=where)
    return codec


# -- encoding ------------------------------------------------------------------------------------


def _custom_dumps(serializers: Serializers) -> bool:
    """Whether an app's serializers encode in their own way (a subclass): then a record goes
    through them, not through its generated JSON encoder."""
    cls = type(serializers)
    return (
        cls.dumps_value is not Serializers.dumps_value or cls.dumps_key is not Serializers.dumps_key
    )


def _dumper(side: _Side, tp: Any, serializer: str | Codec | None) -> Dumper:
    # Records are recognised by value, not by declared type: an untyped topic still sends a
    # record through its own serializer option.
    plain: str | Codec | None = serializer
    if plain is None and (tp is bytes or tp is str):
        plain = "raw"
    numbers = tp in _NUMBERS
    foreign = not (
        tp is None
        or tp is bytes
        or tp is str
        or numbers
        or (isinstance(tp, type) and issubclass(tp, Record))
    )

    def dump(serializers: Serializers, obj: Any) -> bytes | None:
        if obj is None:
            return None
        if foreign:
            model_type = serializers.model_types.for_type(tp)
            if model_type is not None:
                try:
                    payload = model_type.dump(tp, obj)
                except Exception as exc:
                    raise CodecError(
                        f"cannot encode {side.name} {obj!r} with "
                        f"{getattr(tp, '__qualname__', tp)}: {type(exc).__name__}: {exc}"
                    ) from exc
                codec = _model_codec(serializers, side, serializer, f"{side.name}_serializer")
                return side.dumps(serializers, payload, codec)
        if isinstance(obj, Record):
            spec = serializer if serializer is not None else obj._options.serializer
            where = (
                f"{type(obj).__qualname__} serializer"
                if serializer is None
                else f"{side.name}_serializer"
            )
            codec = _model_codec(serializers, side, spec, where)
            if codec.__class__ is JsonCodec and not _custom_dumps(serializers):
                try:
                    return obj._strm_json().encode()
                except Exception:  # the general path below raises the right error
                    pass
            return side.dumps(serializers, obj.to_representation(), codec)
        if isinstance(obj, Decimal):
            return side.dumps(serializers, str(obj), plain)
        if numbers and isinstance(obj, int | float) and not isinstance(obj, bool):
            codec = (
                side.default_codec(serializers)
                if plain is None
                else serializers.codec(plain, setting=f"{side.name}_serializer")
            )
            if isinstance(codec, RawCodec):
                return side.dumps(serializers, str(obj), codec)
            return side.dumps(serializers, obj, codec)
        return side.dumps(serializers, obj, plain)

    return dump


def _bound_plain_dumper(
    side: _Side, serializers: Serializers, spec: str | Codec | None, general: BoundDumper
) -> BoundDumper:
    """The untyped side's codec called directly for :data:`_PLAIN_PAYLOADS`; anything else,
    and a payload the codec refuses (for the error naming the side), through ``general``."""
    codec = (
        side.default_codec(serializers)
        if spec is None
        else serializers.codec(spec, setting=f"{side.name}_serializer")
    )
    codec_dumps = codec.dumps
    plain = _PLAIN_PAYLOADS

    def dump(obj: Any) -> bytes | None:
        if obj.__class__ in plain:
            try:
                return codec_dumps(obj)
            except Exception:  # the general path raises the CodecError naming the side
                pass
        return general(obj)

    return dump
