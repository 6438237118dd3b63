"""The contract every cache backend meets: :class:`strm.spi.Cache`.

:class:`CacheContract` asks for a ``cache`` fixture returning an empty cache. Expiry is tested
with a short timeout (``expiry_timeout``) and a bounded wait. A cache that accepts a clock can
take the contract's ``clock`` fixture, a :class:`FakeClock`: the suite moves it forward before
it waits, so such a cache expires at once and the test does not sleep.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from strm.spi import Cache

ALL_BYTES = bytes(range(256))


class FakeClock:
    """A clock for caches that accept one: it moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CacheContract:
    """Behaviour every :class:`strm.spi.Cache` must have."""

    #: The timeout the expiry tests use, in seconds; raise it for a backend whose expiry has a
    #: coarser resolution (whole seconds). A cache using the fake clock never waits for it.
    expiry_timeout: float = 0.3
    #: How long after ``expiry_timeout`` the suite still waits for an expired key to go.
    expiry_grace: float = 2.0

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def cache(self) -> Cache:
        raise NotImplementedError(
            "subclass CacheContract and define a 'cache' fixture returning an empty cache"
        )

    async def wait_until_gone(self, cache: Cache, key: str, clock: FakeClock) -> None:
        """Let ``expiry_timeout`` pass and poll, within a bound, until ``key`` is gone."""
        clock.advance(self.expiry_timeout * 2)
        started = time.monotonic()
        deadline = started + self.expiry_timeout * 2 + self.expiry_grace
        step = max(self.expiry_timeout / 10, 0.01)
        for _ in range(int((deadline - started) / step) + 1):
            if await cache.get(key) is None or time.monotonic() > deadline:
                break
            await asyncio.sleep(step)
        assert await cache.get(key) is None, (
            f"{key!r} set with timeout={self.expiry_timeout} is still there after "
            f"{time.monotonic() - started:.1f} s"
        )

    def test_implements_the_cache_protocol(self, cache: Cache) -> None:
        assert isinstance(cache, Cache)

    @pytest.mark.asyncio
    async def test_get_of_a_missing_key_is_none(self, cache: Cache) -> None:
        assert await cache.get("missing") is None

    @pytest.mark.asyncio
    async def test_set_then_get(self, cache: Cache) -> None:
        await cache.set("k", b"v")
        value = await cache.get("k")
        assert value == b"v"
        assert type(value) is bytes
        assert await cache.get("other") is None

    @pytest.mark.asyncio
    async def test_set_replaces_the_value(self, cache: Cache) -> None:
        await cache.set("k", b"first")
        await cache.set("k", b"second")
        assert await cache.get("k") == b"second"

    @pytest.mark.asyncio
    async def test_delete(self, cache: Cache) -> None:
        await cache.set("k", b"v")
        await cache.set("kept", b"v")
        await cache.delete("k")
        assert await cache.get("k") is None
        assert await cache.get("kept") == b"v"

    @pytest.mark.asyncio
    async def test_delete_of_a_missing_key_is_harmless(self, cache: Cache) -> None:
        await cache.delete("missing")
        assert await cache.get("missing") is None

    @pytest.mark.asyncio
    async def test_binary_and_empty_values_are_kept_exactly(self, cache: Cache) -> None:
        await cache.set("binary", ALL_BYTES)
        await cache.set("empty", b"")
        await cache.set("large", ALL_BYTES * 256)
        assert await cache.get("binary") == ALL_BYTES
        assert await cache.get("empty") == b""
        assert await cache.get("large") == ALL_BYTES * 256

    @pytest.mark.asyncio
    async def test_keys_are_any_text(self, cache: Cache) -> None:
        keys = ["a:b/c d", "ünïcødé", "k" * 200, "a", "a:"]
        for i, key in enumerate(keys):
            await cache.set(key, str(i).encode())
        assert [await cache.get(key) for key in keys] == [str(i).encode() for i in range(5)]

    @pytest.mark.asyncio
    async def test_a_value_is_there_until_its_timeout(self, cache: Cache, clock: FakeClock) -> None:
        await cache.set("timed", b"v", timeout=self.expiry_timeout)
        assert await cache.get("timed") == b"v"
        await self.wait_until_gone(cache, "timed", clock)

    @pytest.mark.asyncio
    async def test_only_timed_values_expire(self, cache: Cache, clock: FakeClock) -> None:
        await cache.set("forever", b"1")
        await cache.set("renewed", b"2", timeout=self.expiry_timeout)
        await cache.set("renewed", b"3")
        await cache.set("extended", b"4", timeout=self.expiry_timeout)
        await cache.set("extended", b"5", timeout=self.expiry_timeout * 1000)
        await cache.set("timed", b"6", timeout=self.expiry_timeout)
        await self.wait_until_gone(cache, "timed", clock)
        assert await cache.get("forever") == b"1"
        assert await cache.get("renewed") == b"3"
        assert await cache.get("extended") == b"5"

    @pytest.mark.asyncio
    async def test_an_expired_key_can_be_set_again(self, cache: Cache, clock: FakeClock) -> None:
        await cache.set("k", b"old", timeout=self.expiry_timeout)
        await self.wait_until_gone(cache, "k", clock)
        await cache.set("k", b"new")
        assert await cache.get("k") == b"new"
