"""The plugin as an app uses it: its schemes, its URL (host, port, db, password, options), and
an app whose Redis stops mid-test and comes back on the same port."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from redis_processes import HOST, RedisServer, free_port, require_redis
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import CacheUnavailable
from strm_cache_redis import RedisCache
from strm_cache_redis.url import parse

AppFactory = Callable[..., App]


def test_the_plugin_provides_both_schemes(strm_app_factory: AppFactory, redis_url: str) -> None:
    app = strm_app_factory(entry_points=True, cache=redis_url).configure()
    provisions = app.plugins.provisions("cache")
    assert provisions["redis"].distribution == "strm-cache-redis"
    assert provisions["rediscluster"].distribution == "strm-cache-redis"
    assert isinstance(app.cache.backend, RedisCache)


def test_the_url_s_parts() -> None:
    url = parse("redis://user:p%40ss@cache.example:6380/3?connect_timeout=1.5&max_connections=4")
    assert (url.host, url.port, url.db, url.username, url.password) == (
        "cache.example",
        6380,
        3,
        "user",
        "p@ss",
    )
    assert url.options == {"socket_connect_timeout": 1.5, "max_connections": 4}
    assert url.safe == "redis://user:***@cache.example:6380/3"
    default = parse("redis://")
    assert (default.host, default.port, default.db, default.password) == (
        "localhost",
        6379,
        0,
        None,
    )
    assert parse("rediscluster://h:7000").cluster


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h/x", "the path is the database number"),
        ("redis://h/0?pool=3", "option 'pool' is not supported yet"),
        ("redis://h/0?connect_timeout=soon", "connect_timeout='soon' is not a float"),
        ("redis://h/0?max_connections=0", "max_connections must be above 0"),
        ("rediscluster://h/2", "Redis Cluster has database 0 only"),
        ("redis://h:99999", "Port out of range"),
        ("redis://h/0#frag", "no #fragment"),
    ],
)
def test_urls_strm_cannot_honour_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse(url.replace("://", "://:hunter2@"))
    try:
        parse(url.replace("://", "://:hunter2@"))
    except ConfigurationError as exc:
        assert "hunter2" not in str(exc)


async def test_a_bad_cache_url_fails_the_app_s_start(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(entry_points=True, cache="redis://:hunter2@127.0.0.1:1/0?pool=3")
    with pytest.raises(ConfigurationError, match="pool") as raised:
        await app.start()
    assert "hunter2" not in str(raised.value)
    assert not app.runtime.is_running


def test_the_options_reach_redis_py() -> None:
    cache = RedisCache(
        "redis://u:pw@127.0.0.1:6390/2?connect_timeout=1.5&stream_timeout=2.5&max_connections=7"
    )
    pool = cache.client.connection_pool
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 2)
    assert (kwargs["username"], kwargs["password"]) == ("u", "pw")
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (1.5, 2.5)
    assert pool.max_connections == 7
    assert kwargs["retry"].get_retries() == 1
    assert "pw" not in repr(cache)


def test_the_options_reach_the_cluster_client() -> None:
    cache = RedisCache("rediscluster://:pw@127.0.0.1:7001?stream_timeout=2.5&max_connections=9")
    client = cache.client
    assert isinstance(client, redis.asyncio.RedisCluster)
    assert client.connection_kwargs["socket_timeout"] == 2.5
    assert client.connection_kwargs["password"] == "pw"
    [node] = client.nodes_manager.startup_nodes.values()
    assert node.max_connections == 9
    assert repr(cache) == "<RedisCache rediscluster://:***@127.0.0.1:7001/0>"


async def test_the_db_of_the_url_is_used(redis_url: str) -> None:
    cache = RedisCache(f"{redis_url}/3")
    raw = redis.asyncio.Redis.from_url(f"{redis_url}/3")
    raw0 = redis.asyncio.Redis.from_url(f"{redis_url}/0")
    try:
        await cache.set("k", b"in three")
        assert await raw.get("k") == b"in three"
        assert await raw0.get("k") is None
    finally:
        await cache.close()
        await raw.aclose()
        await raw0.aclose()


async def test_a_timeout_under_a_millisecond_has_expired_already(redis_url: str) -> None:
    cache = RedisCache(redis_url)
    try:
        await cache.set("k", b"v")
        await cache.set("k", b"w", timeout=0.0001)
        assert await cache.get("k") is None
    finally:
        await cache.close()


@pytest.fixture
def password_redis(tmp_path: Any) -> Any:
    binary, _ = require_redis()
    server = RedisServer(binary, tmp_path / "redis", free_port(), password="s3cr3t-pw")
    server.start()
    yield server
    server.stop()


async def test_the_password_is_used_and_never_shown(
    password_redis: RedisServer, caplog: pytest.LogCaptureFixture, strm_app_factory: AppFactory
) -> None:
    caplog.set_level(logging.DEBUG)
    good = RedisCache(password_redis.url)
    bad_url = f"redis://:wrong-pw@{HOST}:{password_redis.port}"
    bad = RedisCache(bad_url)
    none = RedisCache(f"redis://{HOST}:{password_redis.port}")
    try:
        await good.set("k", b"v")
        assert await good.get("k") == b"v"
        with pytest.raises(CacheUnavailable) as raised:
            await bad.get("k")
        assert "wrong-pw" not in str(raised.value)
        with pytest.raises(CacheUnavailable):
            await none.get("k")
        app = strm_app_factory("pw", entry_points=True, cache=bad_url)
        assert await app.cache.get("k") is None
        [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert f":***@{HOST}:{password_redis.port}" in warning.getMessage()
    finally:
        for cache in (good, bad, none):
            await cache.close()
    assert all("s3cr3t-pw" not in r.getMessage() for r in caplog.records)
    assert all("wrong-pw" not in r.getMessage() for r in caplog.records)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"


class OrdersView:
    def __init__(self, app: App) -> None:
        self.app = app
        self.runs = 0

    async def get(self, request: Request, **kwargs: Any) -> Response:
        self.runs += 1
        return Response(200, f"orders, run {self.runs}".encode())


@pytest.fixture
async def redis_app(strm_app_factory: AppFactory, own_redis: RedisServer) -> AsyncIterator[App]:
    # Entry points load the Redis plugin (and the web one, whose server stays off here).
    app = strm_app_factory("shop", entry_points=True, cache=own_redis.url, web_enabled=False)
    async with app.running():
        # Retry at every call, so that the test sees the server's return at once.
        app.cache.retry_interval = 0.0
        yield app


async def test_views_answer_while_redis_is_stopped_and_cache_again_when_it_is_back(
    redis_app: App, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="strm.cache")
    view = OrdersView(redis_app)
    get = redis_app.cache.view(timeout=60)(OrdersView.get)
    request = Request("GET", "/orders", {"page": "1"})
    assert (await get(view, request)).body == b"orders, run 1"
    assert (await get(view, request)).body == b"orders, run 1"

    await own_redis.astop()
    for run in range(2, 7):
        response = await get(view, request)
        assert (response.status, response.body) == (200, f"orders, run {run}".encode())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"app 'shop': cache redis://{HOST}:{own_redis.port}")

    await own_redis.astart()  # the same port; the server comes back empty
    assert (await get(view, request)).body == b"orders, run 7"
    assert (await get(view, request)).body == b"orders, run 7"
    assert any(r.getMessage().endswith("is back") for r in caplog.records)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


async def test_a_restart_between_two_calls_costs_nothing(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = RedisCache(own_redis.url)
    try:
        await cache.set("k", b"v")
        await own_redis.astop()
        await own_redis.astart()
        # The pooled connection is dead; the one retry opens a new one.
        assert await cache.get("k") is None
        await cache.set("k", b"w")
        assert await cache.get("k") == b"w"
    finally:
        await cache.close()


def test_a_redis_url_with_a_bad_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "badcache.py").write_text(
        "import strm\napp = strm.App('badcache', cache='redis://:s3cret@127.0.0.1:99999/0')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "strm", "-A", "badcache", "worker", "--without-web"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: cache 'redis://:***@127.0.0.1:99999/0': Port out of range 0-65535"
    ]
