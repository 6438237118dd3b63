"""What the memory store and cache do beyond their contracts (``test_contracts.py`` runs those):
how the registry provides them and the behaviour specific to living in one process."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strm.app import App
from strm.builtins.memory_cache import MemoryCache
from strm.builtins.memory_store import MemoryStore
from strm.kernel.errors import BackendNotFoundError
from strm.kernel.spi import TP
from strm.testing.contracts import FakeClock

AppFactory = Callable[..., App]


def test_memory_is_the_default_store_and_cache(strm_app: App) -> None:
    store = strm_app.resolve_backend("store")
    cache = strm_app.resolve_backend("cache")
    assert (store.name, store.factory, store.distribution) == ("memory", MemoryStore, "strm")
    assert (cache.name, cache.factory, cache.distribution) == ("memory", MemoryCache, "strm")
    assert isinstance(strm_app.cache.backend, MemoryCache)  # behind the outage front
    assert strm_app.cache is strm_app.cache


def test_blocking_the_memory_store_plugin(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(plugins=["no:memory_store"])
    with pytest.raises(BackendNotFoundError, match=r"store 'memory://'.*installed: none"):
        app.resolve_backend("store")


def test_each_memory_store_has_its_own_data() -> None:
    first, second = MemoryStore(), MemoryStore(table_name="t", partition=1)
    first.set(b"k", b"1")
    first.set_applied_offset(TP("t", 0), 4)
    assert second.get(b"k") is None
    assert second.applied_offset(TP("t", 0)) is None


def test_memory_store_items_is_a_snapshot() -> None:
    store = MemoryStore()
    store.write_batch({b"a": b"1", b"b": b"2"})
    for key, _ in store.items():
        store.delete(key)
        store.set(key + b"-new", b"x")
    assert dict(store.items()) == {b"a-new": b"x", b"b-new": b"x"}


async def test_memory_cache_expires_exactly_at_its_timeout() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", timeout=10)
    clock.advance(9.999)
    assert await cache.get("k") == b"v"
    clock.advance(0.001)
    assert await cache.get("k") is None


async def test_memory_cache_forgets_an_expired_entry() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", timeout=1)
    clock.advance(1)
    assert await cache.get("k") is None
    clock.advance(-1)
    assert await cache.get("k") is None


async def test_memory_cache_of_each_app_is_its_own(strm_app_factory: AppFactory) -> None:
    first, second = strm_app_factory().cache, strm_app_factory().cache
    await first.set("k", b"v")
    assert await second.get("k") is None
