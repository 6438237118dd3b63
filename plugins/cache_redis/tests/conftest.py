"""Fixtures: ``redis_url`` (the session's server, emptied for each test), ``own_redis`` (a server
of the test's own, which it may stop and start again on the same port), and the same for a
cluster of three masters: ``redis_cluster_url`` and ``own_redis_cluster``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_processes import RedisCluster, RedisServer, flushall, free_port, require_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary, _ = require_redis()
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's server, emptied for this test."""
    if redis_server.process is None:
        redis_server.start()
    flushall(redis_server.port)
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own, which it may stop and start."""
    binary, _ = require_redis()
    server = RedisServer(binary, tmp_path / "redis", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    binary, cli = require_redis()
    cluster = RedisCluster(binary, cli, tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisCluster) -> str:
    redis_cluster.flush()
    return redis_cluster.url


@pytest.fixture
def own_redis_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    binary, cli = require_redis()
    cluster = RedisCluster(binary, cli, tmp_path / "cluster")
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()
