"""strm plugin: caches on Redis (``redis://``) and Redis Cluster (``rediscluster://``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.types import url_scheme

from strm_cache_redis.url import SCHEMES, parse

if TYPE_CHECKING:
    from strm_cache_redis.cache import RedisCache

__all__ = ["RedisCache", "strm_app_configured", "strm_caches"]

#: The cache's class by path: aiocache and redis-py (about 0.1 s of CPU to import) are loaded
#: when an app first uses a Redis cache, not by every app that has the plugin installed.
CACHE = "strm_cache_redis.cache:RedisCache"


__getattr__ = records.lazy_exports(__name__, {"RedisCache": CACHE})


@strm.hookimpl
def strm_caches() -> list[Provision]:
    return [
        records.cache("redis", CACHE, description="Redis, through aiocache and redis-py"),
        records.cache(
            "rediscluster", CACHE, description="Redis Cluster, through aiocache and redis-py"
        ),
    ]


@strm.hookimpl
def strm_app_configured(app: Any) -> None:
    """A bad Redis URL (a port out of range, an unknown option) is a configuration error
    when the app is configured, before the worker prints its banner: one line, exit 2."""
    url = app.conf.cache
    if isinstance(url, str) and url_scheme(url) in SCHEMES:
        parse(url)
