"""The contract every cache backend meets: :class:`strm.kernel.spi.Cache`.

:class:`CacheContract` asks for a ``cache`` fixture returning an empty cache. Expiry is tested
with a short timeout (``expiry_timeout``) and a bounded wait. A cache that accepts a clock can
take the contract's ``clock`` fixture, a :class:`FakeClock`: the suite moves it forward before
it waits, so such a cache expires at once and the test does not sleep.

:class:`CacheOutageContract` is for backends with a server: it stops the server mid-test and
starts it again, and checks that calls fail with :class:`strm.kernel.spi.CacheUnavailable`
meanwhile, that the cache serves again afterwards, and that ``app.cache`` turns the outage into
misses and one warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import pytest

from strm.caches.front import AppCache
from strm.kernel.spi import Cache, CacheUnavailable

T = TypeVar("T")

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
    """Behaviour every :class:`strm.kernel.spi.Cache` must have."""

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


class CacheOutage(Protocol):
    """Takes a cache's server away and brings it back, for :class:`CacheOutageContract`."""

    async def stop(self) -> None:
        """Stop the server; return once it no longer answers."""

    async def start(self) -> None:
        """Start it again at the same address; return once it answers."""


class CacheOutageContract:
    """What a cache backend with a server does when the server goes away and comes back.

    Asks for a ``cache`` fixture (an empty cache, as for :class:`CacheContract`) and an
    ``outage`` fixture (a :class:`CacheOutage` for that cache's server). The backend must raise
    :class:`strm.kernel.spi.CacheUnavailable`, and nothing else, within ``call_bound`` seconds while
    its server is down, and serve again within ``recovery_bound`` seconds of its return. The
    suite also checks what ``app.cache`` makes of it: misses, one WARNING per outage.
    """

    #: The longest a call may take to fail while the server is down.
    call_bound: float = 10.0
    #: How long after the server is back the cache may take to serve again.
    recovery_bound: float = 15.0

    @pytest.fixture
    def cache(self) -> Cache:
        raise NotImplementedError("subclass CacheOutageContract and define a 'cache' fixture")

    @pytest.fixture
    def outage(self) -> CacheOutage:
        raise NotImplementedError("subclass CacheOutageContract and define an 'outage' fixture")

    async def bounded(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self.call_bound)

    async def until_served(self, cache: Cache, key: str, value: bytes) -> None:
        """Set and read back ``key`` until it works, within ``recovery_bound``."""
        deadline = time.monotonic() + self.recovery_bound
        last: BaseException | None = None
        for _ in range(int(self.recovery_bound / 0.05) + 1):
            try:
                await self.bounded(cache.set(key, value))
                if await self.bounded(cache.get(key)) == value:
                    return
            except (CacheUnavailable, TimeoutError) as exc:
                last = exc
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"the cache did not serve again within {self.recovery_bound} s of its server's "
            f"return (last error: {last!r})"
        )

    @pytest.mark.asyncio
    async def test_calls_raise_cache_unavailable_while_the_server_is_down(
        self, cache: Cache, outage: CacheOutage
    ) -> None:
        await cache.set("k", b"v")
        assert await cache.get("k") == b"v"
        await outage.stop()
        calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("get", lambda: cache.get("k")),
            ("set", lambda: cache.set("k", b"w")),
            ("delete", lambda: cache.delete("k")),
            ("get", lambda: cache.get("k")),
        ]
        for name, call in calls:
            try:
                await self.bounded(call())
            except CacheUnavailable:
                continue
            except TimeoutError:
                raise AssertionError(
                    f"{name} on a cache whose server is down did not fail within "
                    f"{self.call_bound} s"
                ) from None
            raise AssertionError(f"{name} on a cache whose server is down did not raise")

    @pytest.mark.asyncio
    async def test_the_cache_serves_again_when_the_server_is_back(
        self, cache: Cache, outage: CacheOutage
    ) -> None:
        await cache.set("before", b"1")
        await outage.stop()
        with pytest.raises(CacheUnavailable):
            await self.bounded(cache.get("before"))
        await outage.start()
        await self.until_served(cache, "after", b"2")
        await cache.delete("after")
        assert await cache.get("after") is None

    @pytest.mark.asyncio
    async def test_app_cache_misses_and_warns_once_per_outage(
        self, cache: Cache, outage: CacheOutage, caplog: pytest.LogCaptureFixture
    ) -> None:
        front = AppCache(cache, url="contract://", owner="contract", retry_interval=0.0)
        caplog.set_level(logging.INFO, logger="strm.cache")
        await front.set("k", b"v")
        assert await front.get("k") == b"v"
        for outage_number in (1, 2):
            await outage.stop()
            for _ in range(5):
                assert await self.bounded(front.get("k")) is None
                await self.bounded(front.set("k", b"w"))
                await self.bounded(front.delete("k"))
            assert not front.available
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == outage_number, [r.getMessage() for r in warnings]
            assert "contract:// is unavailable" in warnings[-1].getMessage()
            await outage.start()
            await self.until_served(front, "k", b"v")
            assert front.available
            back = [r for r in caplog.records if r.getMessage().endswith("contract:// is back")]
            assert len(back) == outage_number
