"""The ``dictstore://`` table store: a dict per table partition with a cap on its size.

It implements :class:`strm.kernel.spi.Store` and nothing more: bytes in, bytes out, plus the
changelog offsets it has applied. Serialisation, changelogs and recovery are the kernel's job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from strm.kernel.contexts import StoreContext
from strm.kernel.spi import TP

#: The name of the plugin's setting, read from the context's ``conf``.
MAX_KEYS_SETTING = "dictstore_max_keys"


class DictStoreFullError(RuntimeError):
    """A write would put more keys in a partition than ``dictstore_max_keys`` allows."""


class DictStore:
    """One table partition in a dict, holding at most ``max_keys`` keys.

    Built by strm as ``DictStore(url=..., context=...)`` (a
    :class:`strm.kernel.contexts.StoreContext`); the cap comes from the context's
    ``dictstore_max_keys`` setting unless ``max_keys`` is given.
    """

    def __init__(
        self,
        *,
        url: str = "dictstore://",
        context: StoreContext,
        max_keys: int | None = None,
        **_: Any,
    ) -> None:
        if max_keys is None:
            max_keys = int(getattr(context.conf, MAX_KEYS_SETTING))
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.url = url
        self.table_name = context.table_name
        self.partition = context.partition
        self.max_keys = max_keys
        self._data: dict[bytes, bytes] = {}
        self._offsets: dict[TP, int] = {}

    def __repr__(self) -> str:
        return (
            f"<DictStore {self.table_name!r}[{self.partition}] {len(self._data)}/{self.max_keys}>"
        )

    def _check_room(self, new_keys: int) -> None:
        if len(self._data) + new_keys > self.max_keys:
            where = f"table {self.table_name!r} partition {self.partition}"
            raise DictStoreFullError(
                f"dictstore {where} is full: it holds {len(self._data)} of at most "
                f"{self.max_keys} keys ({MAX_KEYS_SETTING}) and this write adds {new_keys}; "
                "raise the limit with DICTSTORE_MAX_KEYS or --dictstore-max-keys"
            )

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            self._check_room(1)
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
        """All or nothing: a batch that would overflow the cap changes nothing."""
        added = sum(1 for key, value in puts.items() if value is not None and key not in self._data)
        removed = sum(1 for key, value in puts.items() if value is None and key in self._data)
        self._check_room(added - removed)
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
        """Nothing to release: the data lives as long as the object."""
