"""The ``memory://`` cache: a per-process dict with expiry times."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision


class MemoryCache:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **_: Any) -> None:
        self._clock = clock
        self._data: dict[str, tuple[bytes, float | None]] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and self._clock() >= expires:
            del self._data[key]
            return None
        return value

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
        expires = None if timeout is None else self._clock() + timeout
        self._data[key] = (value, expires)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


@hookimpl
def strm_caches() -> list[Provision]:
    return [records.cache("memory", MemoryCache, description="in-process dict with expiry")]
