"""The Redis cache: strm's :class:`strm.kernel.spi.Cache` on aiocache's Redis backend over redis-py.

aiocache does the commands (``GET``, ``SET``, ``PSETEX``, ``DEL``) and bounds each call's time;
redis-py holds the connections. What this module adds is the SPI's promises: values are bytes
as given (aiocache's null serializer, no encoding), timeouts are fractions of a second
(milliseconds on the server), and a server that cannot be reached is a
:class:`strm.kernel.spi.CacheUnavailable`, raised quickly: redis-py's own retries (three, with
backoff, by default) are cut to one at once (for a pooled connection a restarted server closed),
since a cache call that waits seconds for a server that is down costs more than the miss it
would avoid.

For ``rediscluster://`` aiocache's backend runs over redis-py's cluster client in place of its
single-server one (aiocache 0.12 builds only the latter; the commands it sends are the same).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.exceptions
from aiocache import RedisCache as AiocacheRedis  # type: ignore[import-untyped]
from aiocache.serializers import NullSerializer  # type: ignore[import-untyped]
from redis.asyncio import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from strm.kernel.contexts import CacheContext
from strm.kernel.spi import CacheUnavailable

from strm_cache_redis.url import RedisURL, parse

logger = logging.getLogger("strm.cache.redis")

#: The longest one cache call may take, in seconds (aiocache's bound, its default).
CALL_TIMEOUT = 5.0

#: Errors that mean the server (or the cluster) cannot answer now.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterError,
    redis.exceptions.TryAgainError,
    redis.exceptions.RedisClusterException,
    asyncio.TimeoutError,
    OSError,
)


def _one_retry() -> Retry:
    """One immediate retry: enough for a pooled connection that a server restart closed."""
    return Retry(NoBackoff(), 1)


class RedisCache:
    """A cache on one Redis server or a Redis Cluster, named by its URL (see the README).

    strm builds it as ``RedisCache(url=..., context=...)``; everything it needs is in the URL,
    so it reads nothing of the :class:`strm.kernel.contexts.CacheContext`.
    """

    def __init__(
        self,
        url: str,
        *,
        context: CacheContext | None = None,
        call_timeout: float = CALL_TIMEOUT,
        **_: Any,
    ) -> None:
        self.config: RedisURL = parse(url)
        self.call_timeout = call_timeout
        self._client: AiocacheRedis = self._new_client()

    def _new_client(self) -> AiocacheRedis:
        config = self.config
        pool_options: dict[str, Any] = {"retry": _one_retry()}
        if config.username:
            pool_options["username"] = config.username
        if "socket_timeout" in config.options:
            pool_options["socket_timeout"] = config.options["socket_timeout"]
        client = AiocacheRedis(
            serializer=NullSerializer(encoding=None),
            timeout=self.call_timeout,
            endpoint=config.host,
            port=config.port,
            db=config.db,
            password=config.password,
            pool_max_size=config.options.get("max_connections"),
            create_connection_timeout=config.options.get("socket_connect_timeout"),
            connection_pool_kwargs=pool_options,
        )
        if config.cluster:
            client.client = RedisCluster(
                host=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                retry=_one_retry(),
                **config.options,
            )
        return client

    @property
    def client(self) -> Any:
        """The redis-py client underneath (``redis.asyncio.Redis`` or ``RedisCluster``)."""
        return self._client.client

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._client.get(key)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
        try:
            if timeout is None:
                await self._client.set(key, bytes(value))
            elif timeout * 1000 < 1:
                # Redis refuses an expiry under a millisecond; such a value has expired already.
                await self._client.delete(key)
            else:
                # A float ttl makes aiocache send PSETEX, in milliseconds.
                await self._client.set(key, bytes(value), ttl=float(timeout))
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(key)
        except UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def close(self) -> None:
        """Close the connections; the next call opens new ones."""
        try:
            await self.client.aclose()
        except UNAVAILABLE as exc:
            logger.debug("closing %s: %r", self.config.safe, exc)

    def _unavailable(self, exc: BaseException) -> CacheUnavailable:
        reason = str(exc) or type(exc).__name__
        return CacheUnavailable(f"{self.config.safe}: {reason}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config.safe}>"
