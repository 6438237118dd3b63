"""The built-in codecs ``raw``, ``json``, ``pickle`` and ``binary``, registered as a plugin."""

from __future__ import annotations

import base64
import json
import pickle
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


class JsonCodec:
    """UTF-8 JSON; objects with an ``asdict()``/``to_representation()`` method are encoded
    through it (models use this)."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, default=_json_default, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        # Decoding first skips json's encoding sniffing: JSON on the wire is UTF-8.
        return json.loads(data.decode() if isinstance(data, bytes) else data)


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
