"""The cache contract suites on a real Redis server and a real Redis Cluster of three."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_processes import RedisCluster, RedisServer
from strm.kernel.spi import Cache
from strm.testing.contracts import CacheContract, CacheOutage, CacheOutageContract
from strm_cache_redis import RedisCache


class TestRedisCache(CacheContract):
    # Redis expires keys in milliseconds (PSETEX), so the suite's short timeout is honoured.
    expiry_timeout = 0.2

    @pytest.fixture
    async def cache(self, redis_url: str) -> AsyncIterator[Cache]:
        cache = RedisCache(redis_url)
        yield cache
        await cache.close()


class TestRedisClusterCache(CacheContract):
    expiry_timeout = 0.2

    @pytest.fixture
    async def cache(self, redis_cluster_url: str) -> AsyncIterator[Cache]:
        cache = RedisCache(redis_cluster_url)
        yield cache
        await cache.close()


class TestRedisOutage(CacheOutageContract):
    @pytest.fixture
    async def cache(self, own_redis: RedisServer) -> AsyncIterator[Cache]:
        cache = RedisCache(own_redis.url)
        yield cache
        await cache.close()

    @pytest.fixture
    def outage(self, own_redis: RedisServer) -> CacheOutage:
        return ServerOutage(own_redis)


class TestRedisClusterOutage(CacheOutageContract):
    @pytest.fixture
    async def cache(self, own_redis_cluster: RedisCluster) -> AsyncIterator[Cache]:
        cache = RedisCache(own_redis_cluster.url)
        yield cache
        await cache.close()

    @pytest.fixture
    def outage(self, own_redis_cluster: RedisCluster) -> CacheOutage:
        return ServerOutage(own_redis_cluster)


class ServerOutage:
    """The whole server (every node of a cluster) stops, then starts on the same ports."""

    def __init__(self, server: RedisServer | RedisCluster) -> None:
        self.server = server

    async def stop(self) -> None:
        await self.server.astop()

    async def start(self) -> None:
        await self.server.astart()
