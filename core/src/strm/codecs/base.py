"""Faust's codec classes: subclass :class:`Codec`, define ``_dumps``/``_loads``, chain with ``|``.

Faust apps write their own codecs this way (``class msgpack(codecs.Codec)``) and combine them
(``raw_msgpack() | codecs.binary()``). Such objects are codecs as strm's serializers expect them
(``dumps``/``loads``), so they can be registered by name or passed wherever a serializer is.
"""

from __future__ import annotations

from typing import Any

from strm.codecs.builtin import BinaryCodec, JsonCodec, PickleCodec, RawCodec

__all__ = ["Codec", "binary", "json", "pickle", "raw", "raw_pickle"]


class Codec:
    """A codec stage, followed by ``children`` stages: encoding runs this stage first, decoding
    runs it last, so ``a | b`` encodes with ``a`` then ``b`` and decodes the other way round.

    ``kwargs`` are kept so :meth:`clone` (and ``|``) rebuild a stage with the same options.
    """

    def __init__(self, children: tuple[Codec, ...] | None = None, **kwargs: Any) -> None:
        self.children: tuple[Codec, ...] = tuple(children or ())
        self.nodes: tuple[Codec, ...] = (self, *self.children)
        self.kwargs: dict[str, Any] = kwargs

    def _dumps(self, obj: Any) -> bytes:
        raise NotImplementedError(f"codec {type(self).__name__} defines no _dumps(obj)")

    def _loads(self, s: bytes) -> Any:
        raise NotImplementedError(f"codec {type(self).__name__} defines no _loads(s)")

    def dumps(self, obj: Any) -> bytes:
        for node in self.nodes:
            obj = node._dumps(obj)
        result: bytes = obj
        return result

    def loads(self, s: bytes) -> Any:
        data: Any = s
        for node in reversed(self.nodes):
            data = node._loads(data)
        return data

    def clone(self, *children: Codec) -> Codec:
        """This stage with the same options and ``children`` appended to its chain."""
        return type(self)(children=self.children + children, **self.kwargs)

    def __or__(self, other: Any) -> Any:
        if isinstance(other, Codec):
            return self.clone(other)
        return NotImplemented

    def __repr__(self) -> str:
        return " | ".join(
            f"{type(node).__name__}({', '.join(map(repr, node.kwargs.values()))})"
            for node in self.nodes
        )


# The stages below wrap strm's built-in codecs, so a chain built from them encodes exactly as
# the codec names ``'json'``, ``'raw'``, ``'binary'`` and ``'pickle'`` do.

_JSON = JsonCodec()
_RAW = RawCodec()
_BINARY = BinaryCodec()
_PICKLE = PickleCodec()


class json(Codec):
    """UTF-8 JSON (models encode through their ``to_representation``)."""

    def _dumps(self, obj: Any) -> bytes:
        return _JSON.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return _JSON.loads(s)


class raw(Codec):
    """Bytes as they are (``str`` is encoded as UTF-8)."""

    def _dumps(self, obj: Any) -> bytes:
        return _RAW.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return _RAW.loads(s)


class binary(Codec):
    """Base64, for payloads that must travel as text."""

    def _dumps(self, obj: Any) -> bytes:
        return _BINARY.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return _BINARY.loads(s)


class raw_pickle(Codec):
    """Python pickles without an encoding (trusted data only: loading one runs code)."""

    def _dumps(self, obj: Any) -> bytes:
        return _PICKLE.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return _PICKLE.loads(s)


def pickle() -> Codec:
    """Faust's ``pickle`` codec: pickle, then Base64 (the wire form of Faust's ``'pickle'``
    name, so payloads pickled by a Faust app decode with ``serializer=codecs.pickle()``)."""
    return raw_pickle() | binary()  # type: ignore[no-any-return]
