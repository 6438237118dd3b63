"""``app.cache``: the ``cache`` setting's backend behind the outage policy of strm.caches.front."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from strm.app import App
from strm.builtins.memory_cache import MemoryCache
from strm.caches.front import AppCache
from strm.kernel.errors import BackendNotFoundError
from strm.kernel.spi import Cache, CacheUnavailable
from strm.testing.contracts import CacheContract, CacheOutageContract, FakeClock

AppFactory = Callable[..., App]


class SwitchableCache(MemoryCache):
    """The memory cache with a server that can go away: while ``down``, every call raises."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.down = False
        self.calls = 0
        self.closed = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise CacheUnavailable("switch://secret-host: Connection refused")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await super().get(key)

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
        self._check()
        await super().set(key, value, timeout)

    async def delete(self, key: str) -> None:
        self._check()
        await super().delete(key)

    async def close(self) -> None:
        self.closed += 1


class Switch:
    def __init__(self, cache: SwitchableCache) -> None:
        self.cache = cache

    async def stop(self) -> None:
        self.cache.down = True

    async def start(self) -> None:
        self.cache.down = False


class TestTheOutageContractOnASwitchableCache(CacheOutageContract):
    call_bound = 1.0
    recovery_bound = 1.0

    @pytest.fixture
    def switchable(self) -> SwitchableCache:
        return SwitchableCache()

    @pytest.fixture
    def cache(self, switchable: SwitchableCache) -> Cache:
        return switchable

    @pytest.fixture
    def outage(self, switchable: SwitchableCache) -> Switch:
        return Switch(switchable)


class TestAppCacheMeetsTheCacheContract(CacheContract):
    @pytest.fixture
    def cache(self, clock: FakeClock) -> Cache:
        return AppCache(MemoryCache(clock=clock))


class RaisesConnectionError(MemoryCache):
    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("refused")


async def test_the_outage_contract_catches_a_backend_leaking_its_own_errors() -> None:
    cache = RaisesConnectionError()
    switch = Switch(SwitchableCache())
    with pytest.raises(ConnectionError):
        await CacheOutageContract().test_calls_raise_cache_unavailable_while_the_server_is_down(
            cache, switch
        )


async def test_the_outage_contract_catches_a_backend_that_does_not_come_back() -> None:
    class NeverBack(Switch):
        async def start(self) -> None:
            pass

    contract = CacheOutageContract()
    contract.recovery_bound = 0.2
    cache = SwitchableCache()
    with pytest.raises(AssertionError, match="did not serve again"):
        await contract.test_the_cache_serves_again_when_the_server_is_back(cache, NeverBack(cache))


async def test_a_down_backend_is_asked_once_per_retry_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    backend = SwitchableCache()
    front = AppCache(backend, url="redis://:pw@host:6379/0", owner="shop", clock=clock)
    await front.set("k", b"v")
    backend.down = True
    calls = backend.calls
    for _ in range(10):
        assert await front.get("k") is None
    assert backend.calls == calls + 1, "a backend that is down was asked again within a second"
    clock.advance(1.0)
    backend.down = False
    assert await front.get("k") == b"v"
    messages = [r.getMessage() for r in caplog.records if r.name == "strm.cache"]
    assert messages[0].startswith("app 'shop': cache redis://:***@host:6379/0 is unavailable")
    assert all("pw" not in m for m in messages)


async def test_timedelta_timeouts(strm_app: App) -> None:
    from datetime import timedelta

    clock = FakeClock()
    front = AppCache(MemoryCache(clock=clock))
    await front.set("k", b"v", timeout=timedelta(seconds=2))
    clock.advance(1.5)
    assert await front.get("k") == b"v"
    clock.advance(1.0)
    assert await front.get("k") is None


def test_app_cache_is_the_setting_s_backend_behind_the_front(strm_app: App) -> None:
    assert isinstance(strm_app.cache, AppCache)
    assert isinstance(strm_app.cache.backend, MemoryCache)
    assert strm_app.cache is strm_app.cache
    assert strm_app.cache.Unavailable is CacheUnavailable


def test_app_cache_can_be_replaced_as_in_faust(strm_app: App) -> None:
    backend = SwitchableCache()
    strm_app.cache = backend
    assert isinstance(strm_app.cache, AppCache)
    assert strm_app.cache.backend is backend
    front = AppCache(MemoryCache())
    strm_app.cache = front
    assert strm_app.cache is front


def test_make_cache_resolves_any_url(strm_app: App) -> None:
    other = strm_app.make_cache("memory://")
    assert isinstance(other.backend, MemoryCache)
    assert other is not strm_app.cache
    with pytest.raises(BackendNotFoundError, match="nope"):
        strm_app.make_cache("nope://")


async def test_a_cache_url_nothing_provides_fails_the_start(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(cache="nope://somewhere")
    with pytest.raises(BackendNotFoundError, match="nope"):
        await app.start()
    assert not app.runtime.is_running


async def test_stopping_the_app_closes_the_cache(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    backend = SwitchableCache()
    app.cache = backend
    async with app.running():
        await app.cache.set("k", b"v")
    assert backend.closed == 1
    # Reconnecting is the backend's business: the front still serves.
    assert await app.cache.get("k") == b"v"


async def test_the_warning_names_the_app_and_the_backend(
    strm_app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = strm_app_factory("orders")
    backend = SwitchableCache()
    app.cache = backend
    backend.down = True
    caplog.set_level(logging.INFO, logger="strm.cache")
    assert await app.cache.get("k") is None
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage().startswith("app 'orders': cache SwitchableCache is unavailable")
