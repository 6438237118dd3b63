"""The app's codec registry (the ``Serializers`` extension class).

Codec names come from plugins through the ``strm_codecs`` hook, and from :func:`register` (Faust's
``codecs.register(name, codec)``), which wins over a plugin's codec of the same name; ``'a|b'``
composes codecs: on the way out ``a`` runs first, then ``b``; on the way in, the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from strm.kernel.errors import CodecError, ConfigurationError, KeyDecodeError, ValueDecodeError
from strm.kernel.model_types import ModelTypes
from strm.kernel.spi import Codec

#: Codecs registered by name in this process; every app's serializers find them.
codecs: dict[str, Codec] = {}


def register(name: str, codec: Codec) -> None:
    """Make ``codec`` known as ``name`` to every app (and to models encoding on their own)."""
    if not isinstance(codec, Codec):
        raise TypeError(f"register({name!r}, ...): expected a codec (dumps/loads), not {codec!r}")
    codecs[name] = codec


class ComposedCodec:
    def __init__(self, codecs: Sequence[Codec]) -> None:
        self.codecs = tuple(codecs)

    def dumps(self, obj: Any) -> bytes:
        for codec in self.codecs:
            obj = codec.dumps(obj)
        return obj  # type: ignore[no-any-return]

    def loads(self, data: bytes) -> Any:
        obj: Any = data
        for codec in reversed(self.codecs):
            obj = codec.loads(obj)
        return obj


class Serializers:
    """Encodes and decodes keys and values with the app's default or a given codec.

    ``model_types`` are the plugins' schema types (``strm_model_types``), which the app sets
    after building its serializers; a schema asks them about types it does not know itself.
    """

    model_types: ModelTypes = ModelTypes()

    def __init__(
        self,
        factories: dict[str, Callable[[], Codec]],
        *,
        key_serializer: str | Codec = "raw",
        value_serializer: str | Codec = "json",
    ) -> None:
        self._factories = factories
        self._cache: dict[str, Codec] = {}
        self.key_codec = self.codec(key_serializer, setting="key_serializer")
        self.value_codec = self.codec(value_serializer, setting="value_serializer")

    def codec(self, spec: str | Codec, *, setting: str = "serializer") -> Codec:
        """The codec for a name, a composed name, or a codec object."""
        if not isinstance(spec, str):
            return spec
        found = self._cache.get(spec)
        if found is None:
            parts = [self._one(name.strip(), spec, setting) for name in spec.split("|")]
            found = parts[0] if len(parts) == 1 else ComposedCodec(parts)
            self._cache[spec] = found
        return found

    def _one(self, name: str, spec: str, setting: str) -> Codec:
        registered = codecs.get(name)
        if registered is not None:
            return registered
        factory = self._factories.get(name)
        if factory is None:
            known = ", ".join(sorted({*self._factories, *codecs})) or "none"
            where = f" in {spec!r}" if name != spec else ""
            raise ConfigurationError(
                f"{setting}: unknown codec {name!r}{where}; installed codecs: {known}"
            )
        return factory()

    def dumps_key(self, key: Any, serializer: str | Codec | None = None) -> bytes | None:
        if key is None:
            return None
        codec = self.key_codec if serializer is None else self.codec(serializer)
        try:
            return codec.dumps(key)
        except Exception as exc:
            raise CodecError(f"cannot encode key {key!r}: {type(exc).__name__}: {exc}") from exc

    def dumps_value(self, value: Any, serializer: str | Codec | None = None) -> bytes | None:
        if value is None:
            return None
        codec = self.value_codec if serializer is None else self.codec(serializer)
        try:
            return codec.dumps(value)
        except Exception as exc:
            raise CodecError(
                f"cannot encode value of type {type(value).__name__}: {type(exc).__name__}: {exc}"
            ) from exc

    def loads_key(self, data: bytes | None, serializer: str | Codec | None = None) -> Any:
        if data is None:
            return None
        codec = self.key_codec if serializer is None else self.codec(serializer)
        try:
            return codec.loads(data)
        except Exception as exc:
            raise KeyDecodeError(f"cannot decode key: {type(exc).__name__}: {exc}") from exc

    def loads_value(self, data: bytes | None, serializer: str | Codec | None = None) -> Any:
        if data is None:
            return None
        codec = self.value_codec if serializer is None else self.codec(serializer)
        try:
            return codec.loads(data)
        except Exception as exc:
            raise ValueDecodeError(f"cannot decode value: {type(exc).__name__}: {exc}") from exc
