"""The built-in codecs ``raw``, ``json``, ``pickle`` and ``binary``, registered as a plugin."""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Callable
from typing import Any

from strm.kernel.spi import Codec


class RawCodec:
    """Bytes as they are; ``str`` is encoded as UTF-8 on the way out."""

    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, bytes):
            return obj
        if isinstance(obj, str):
            return obj.encode()
        if isinstance(obj, bytearray | memoryview):
            return bytes(obj)
        raise TypeError(f"the raw codec takes bytes or str, not {type(obj).__name__}")

    def loads(self, data: bytes) -> Any:
        return data


#: The standard library's decoder, called directly: ``json.loads`` adds a type check and an
#: encoding sniff per call, which is about a third of its cost on a 100-byte value.
_std_decode = json.JSONDecoder().decode


def _std_loads(data: bytes | str) -> Any:
    # Decoding first skips json's encoding sniffing: JSON on the wire is UTF-8.
    return _std_decode(data.decode() if isinstance(data, bytes | bytearray) else data)


def _fast_loads() -> Callable[[bytes | str], Any] | None:
    """msgspec's JSON decoder when the ``strm[msgspec]`` extra is installed: 0.17 µs against
    1.1 µs for the standard library on a 100-byte object on this project's bench machine
    (orjson: 0.23 µs). ``None`` without it."""
    try:
        import msgspec
    except ImportError:
        return None
    decode: Callable[[bytes | str], Any] = msgspec.json.Decoder().decode
    return decode


class JsonCodec:
    """UTF-8 JSON; objects with an ``asdict()``/``to_representation()`` method are encoded
    through it (models use this).

    Decoding uses msgspec when it is installed (the ``strm[msgspec]`` extra) and the standard
    library otherwise. What msgspec refuses and the standard library accepts (``NaN``,
    ``Infinity``, numbers out of a float's range, lone surrogates) is decoded again by the
    standard library, so both give the same objects for every input. Encoding stays with the
    standard library, whose output (ASCII escapes, ``default`` hook) existing data relies on.
    """

    def __init__(self, fast: bool = True) -> None:
        self._fast = _FAST_LOADS if fast else None

    def dumps(self, obj: Any) -> bytes:
        # Table keys and counts are mostly plain ``str`` and ``int``: for them the standard
        # encoder's own output, without building its C encoder for each call.
        cls = obj.__class__
        if cls is str:
            return _encode_str(obj).encode()
        if cls is int:
            return int.__repr__(obj).encode()
        return std_encode(obj).encode()

    def loads(self, data: bytes) -> Any:
        fast = self._fast
        if fast is not None:
            try:
                return fast(data)
            except Exception:  # what msgspec refuses, the standard library decides
                pass
        return _std_loads(data)


_FAST_LOADS = _fast_loads()


def _json_default(obj: Any) -> Any:
    for method in ("to_representation", "asdict"):
        fn = getattr(obj, method, None)
        if callable(fn):
            return fn()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


#: One encoder for every call: ``json.dumps`` with options builds a new one per call. Records
#: encode their fields' unusual values with it too (``strm.models.record_codegen``).
std_encode = json.JSONEncoder(default=_json_default, separators=(",", ":")).encode
#: What ``std_encode`` writes for a ``str`` (ASCII escapes, quotes included).
_encode_str: Callable[[str], str] = json.encoder.encode_basestring_ascii


class PickleCodec:
    """Python pickles. Never decode pickles from a source you do not trust: loading one runs
    code."""

    def dumps(self, obj: Any) -> bytes:
        return pickle.dumps(obj)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)


class BinaryCodec:
    """Base64: makes bytes safe to embed in text formats (``'json|binary'``)."""

    def dumps(self, obj: Any) -> bytes:
        return base64.b64encode(RawCodec().dumps(obj))

    def loads(self, data: bytes) -> Any:
        return base64.b64decode(data, validate=True)


#: The codecs strm ships, by name, with a line for ``strm plugins``; registered by the
#: ``codecs`` built-in plugin (:mod:`strm.builtins.codecs`) and used by name outside an app.
BUILTIN_CODECS: dict[str, tuple[type[Codec], str]] = {
    "raw": (RawCodec, "bytes as they are"),
    "json": (JsonCodec, "UTF-8 JSON"),
    "pickle": (PickleCodec, "Python pickle (trusted data only)"),
    "binary": (BinaryCodec, "base64"),
}
