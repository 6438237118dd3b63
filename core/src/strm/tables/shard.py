"""One partition of a table: its store, a cache of decoded values and the keys not yet
written to the changelog.

Writes only touch the cache and the dirty set; a checkpoint turns each dirty key into one
changelog record and one store write, so a key updated ten thousand times between commits
costs one record. Reads look in the cache, then in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from strm.kernel.spi import Store

#: Marks a key deleted in the cache until the deletion reaches the store.
DELETED: Any = object()
#: Marks a key absent from a read.
MISSING: Any = object()

#: Clean (already written) values kept decoded; beyond this the clean cache starts over.
CLEAN_CACHE_LIMIT = 100_000


class Shard:
    __slots__ = ("cache", "dirty", "loads_key", "loads_value", "partition", "store")

    def __init__(
        self,
        partition: int,
        store: Store,
        loads_key: Callable[[bytes], Any],
        loads_value: Callable[[bytes], Any],
    ) -> None:
        self.partition = partition
        self.store = store
        self.loads_key = loads_key
        self.loads_value = loads_value
        self.cache: dict[Any, Any] = {}
        self.dirty: set[Any] = set()

    def get(self, key: Any, raw_key: Callable[[Any], bytes]) -> Any:
        value = self.cache.get(key, MISSING)
        if value is MISSING:
            raw = self.store.get(raw_key(key))
            if raw is None:
                return MISSING
            value = self.cache[key] = self.loads_value(raw)
        return MISSING if value is DELETED else value

    def set(self, key: Any, value: Any) -> None:
        self.cache[key] = value
        self.dirty.add(key)

    def delete(self, key: Any) -> None:
        self.cache[key] = DELETED
        self.dirty.add(key)

    def take_dirty(self) -> dict[Any, Any]:
        """The keys changed since the last checkpoint, with their values (``DELETED``)."""
        if not self.dirty:
            return {}
        cache = self.cache
        changed = {key: cache[key] for key in self.dirty}
        self.dirty = set()
        return changed

    def written(self, keys: dict[Any, Any]) -> None:
        """The store has ``keys`` now: deletions leave the cache, and a cache grown past its
        limit keeps only what is not written yet."""
        cache = self.cache
        if len(cache) > CLEAN_CACHE_LIMIT:
            self.cache = {key: cache[key] for key in self.dirty}
            return
        for key, value in keys.items():
            if value is DELETED and key not in self.dirty and cache.get(key) is DELETED:
                del cache[key]

    def keys(self, raw_key: Callable[[Any], bytes]) -> Iterator[Any]:
        """Every key, the store's overlaid with changes not yet written."""
        seen: set[Any] = set()
        for key, value in list(self.cache.items()):
            if key in self.dirty:
                seen.add(key)
                if value is not DELETED:
                    yield key
        for raw, _ in self.store.items():
            key = self.loads_key(raw)
            if key not in seen:
                yield key

    def invalidate(self) -> None:
        """Forget decoded values (the store was written from the changelog behind us)."""
        self.cache = {key: self.cache[key] for key in self.dirty}
