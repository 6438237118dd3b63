"""strm plugin: caches on Redis (``redis://``) and Redis Cluster (``rediscluster://``)."""

from __future__ import annotations

import strm
from strm import records
from strm.records import Provision

from strm_cache_redis.cache import RedisCache

__all__ = ["RedisCache", "strm_caches"]


@strm.hookimpl
def strm_caches() -> list[Provision]:
    return [
        records.cache("redis", RedisCache, description="Redis, through aiocache and redis-py"),
        records.cache(
            "rediscluster", RedisCache, description="Redis Cluster, through aiocache and redis-py"
        ),
    ]
