"""The small interfaces plugins implement or receive.

Backends stay behind these protocols: no third-party client type (aiokafka, rocksdict, redis)
crosses them, so the kernel's serialisation, changelog and recovery code serves every backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple, Protocol, runtime_checkable


class TP(NamedTuple):
    """A topic partition."""

    topic: str
    partition: int


@runtime_checkable
class Codec(Protocol):
    """Turns an object into bytes and back; composed left to right with ``|``."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


@runtime_checkable
class Store(Protocol):
    """A table partition's storage: bytes keys to bytes values.

    ``applied_offset``/``set_applied_offset`` persist how far the changelog has been applied, so a
    restart replays only the tail; they live in the store so they commit atomically with the data
    where the backend allows.
    """

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def contains(self, key: bytes) -> bool: ...

    def items(self) -> Iterator[tuple[bytes, bytes]]: ...

    def size(self) -> int: ...

    def clear(self) -> None: ...

    def write_batch(self, puts: dict[bytes, bytes | None]) -> None:
        """Apply many writes at once; a ``None`` value deletes the key."""
        ...

    def applied_offset(self, tp: TP) -> int | None: ...

    def set_applied_offset(self, tp: TP, offset: int) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Cache(Protocol):
    """A key-value cache with expiry, used by web views and by users through ``app.cache``."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...
