"""strm plugin: caches on Redis (``redis://``) and Redis Cluster (``rediscluster://``)."""

from __future__ import annotations

from typing import Any

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.types import url_scheme

from strm_cache_redis.cache import RedisCache
from strm_cache_redis.url import SCHEMES, parse

__all__ = ["RedisCache", "strm_app_configured", "strm_caches"]


@strm.hookimpl
def strm_caches() -> list[Provision]:
    return [
        records.cache("redis", RedisCache, description="Redis, through aiocache and redis-py"),
        records.cache(
            "rediscluster", RedisCache, description="Redis Cluster, through aiocache and redis-py"
        ),
    ]


@strm.hookimpl
def strm_app_configured(app: Any) -> None:
    """A bad Redis URL (a port out of range, an unknown option) is a configuration error
    when the app is configured, before the worker prints its banner: one line, exit 2."""
    url = app.conf.cache
    if isinstance(url, str) and url_scheme(url) in SCHEMES:
        parse(url)
