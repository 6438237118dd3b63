"""The ``reverse`` codec: bytes reversed. Trivial, but it round-trips and composes
(``'json|reverse'`` encodes JSON, then reverses it)."""

from __future__ import annotations

from typing import Any


class ReverseCodec:
    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, str):
            obj = obj.encode()
        if not isinstance(obj, bytes | bytearray | memoryview):
            raise TypeError(f"the reverse codec takes bytes or str, not {type(obj).__name__}")
        return bytes(obj)[::-1]

    def loads(self, data: bytes) -> Any:
        return bytes(data)[::-1]
