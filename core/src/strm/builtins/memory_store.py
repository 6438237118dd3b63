"""The ``memory://`` table store: a dict per table partition, lost when the process ends.

Fine for tests and for tables rebuilt from their changelog at every start; use a persistent
store (``rocksdb://``) in production so a restart replays only the changelog's tail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision
from strm.kernel.spi import TP


class MemoryStore:
    def __init__(self, **_: Any) -> None:
        self._data: dict[bytes, bytes] = {}
        self._offsets: dict[TP, int] = {}

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self._data[key] = value

    def delete(self, key: bytes) -> None:
        self._data.pop(key, None)

    def contains(self, key: bytes) -> bool:
        return key in self._data

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(list(self._data.items()))

    def size(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self._offsets.clear()

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        for key, value in puts.items():
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value
        if applied:
            self._offsets.update(applied)

    def applied_offset(self, tp: TP) -> int | None:
        return self._offsets.get(tp)

    def set_applied_offset(self, tp: TP, offset: int) -> None:
        self._offsets[tp] = offset

    def close(self) -> None:
        """Nothing to release: the data lives and dies with the object."""


@hookimpl
def strm_stores() -> list[Provision]:
    return [records.store("memory", MemoryStore, description="in-process dict, not persistent")]
