"""Helpers of the routing tests: workers of one memory:// group in this process, each with
its web server on a free port of 127.0.0.1, serving one table and one topic through
``@app.table_route`` and ``@app.topic_route``.

Every server listens on the loopback interface only; every wait is bounded in time and count.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from strm.app import App
from strm.web import Request, Response, View

#: Bound on every HTTP exchange and every wait of a test, in seconds.
TIMEOUT = 10.0
APP_ID = "routes"
TABLE = "counts"
CHANGELOG = f"{APP_ID}-{TABLE}-changelog"
PARTITIONS = 4
#: The key of the ``exact_key`` route.
FIXED_KEY = "fixed"


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it; the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Until ``condition()`` holds: at most :data:`TIMEOUT` seconds and 1,000 looks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    for _ in range(1000):
        if condition():
            return
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    raise AssertionError(f"waited {TIMEOUT} s for {what}")


@dataclass
class Worker:
    """One app of the group: its URL and what its agent processed."""

    app: App
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def make_worker(
    broker: str,
    datadir: Path,
    processed: asyncio.Queue[tuple[str, int, str]],
    **settings: Any,
) -> Worker:
    """An app whose agent stores each update of topic ``updates`` in table ``counts`` (and a
    table ``by_number`` keyed by int), with views routed by key in every way Faust offers."""
    port = free_port()
    app = App(
        APP_ID,
        plugins=["strm_web_aiohttp"],
        environ={},
        entry_points=False,
        broker=broker,
        datadir=str(datadir / str(port)),
        web_bind="127.0.0.1",
        web_host="127.0.0.1",
        web_port=port,
        topic_partitions=PARTITIONS,
        **settings,
    )
    worker = Worker(app, port)
    # Keys serialized as the table serializes them (json), so that the partition the producer
    # picks for a key is the one the router computes for the table's key.
    updates = app.topic("updates", key_type=str, value_type=int, key_serializer="json")
    counts = app.Table(TABLE, default=int, partitions=PARTITIONS)
    numbers = app.Table("by_number", key_type=int, default=int, partitions=PARTITIONS)

    @app.agent(updates)
    async def store(stream: Any) -> None:
        async for event in stream.events():
            counts[event.key] = event.value
            processed.put_nowait((event.key, event.value, worker.url))

    def answer(view: Any, key: str) -> Any:
        return view.json({"key": key, "value": counts[key], "served_by": worker.url})

    @app.page("/count/")
    @app.table_route(counts, query_param="key")
    async def by_query(view: Any, request: Any) -> Any:
        return answer(view, request.query["key"])

    @app.page("/count/{key}/")
    @app.table_route(counts, match_info="key")
    async def by_path(view: Any, request: Any, key: str) -> Any:
        return answer(view, key)

    with pytest.warns(DeprecationWarning, match="shard_param"):

        @app.page("/legacy/")
        @app.table_route(counts, shard_param="key")
        async def by_shard_param(view: Any, request: Any) -> Any:
            return answer(view, request.query["key"])

    @app.page("/number/")
    @app.table_route(numbers, query_param="n")
    async def by_number(view: Any, request: Any) -> Any:
        return view.json({"served_by": worker.url})

    @app.page("/fresh-enough/")
    @app.table_route(counts, query_param="key", standby_ok=True)
    async def from_standby(view: Any, request: Any) -> Any:
        return answer(view, request.query["key"])

    @app.page("/where/")
    @app.topic_route(updates, query_param="key")
    async def by_topic(view: Any, request: Any) -> Any:
        return view.json({"served_by": worker.url})

    @app.page("/fixed/")
    class Fixed(View):
        @app.table_route(counts, exact_key=FIXED_KEY)
        async def get(self, request: Request) -> Response:
            return answer(self, FIXED_KEY)

    @app.page("/echo/")
    class Echo(View):
        @app.table_route(counts, query_param="key")
        async def post(self, request: Request) -> Response:
            body = await request.json()
            return self.json({"echo": body, "served_by": worker.url})

    return worker


@dataclass
class Cluster:
    broker: str
    datadir: Path
    workers: list[Worker]
    http: aiohttp.ClientSession
    processed: asyncio.Queue[tuple[str, int, str]] = field(default_factory=asyncio.Queue)

    async def add(self, **settings: Any) -> Worker:
        worker = make_worker(self.broker, self.datadir, self.processed, **settings)
        self.workers.append(worker)
        await worker.app.start()
        return worker

    async def settled(self) -> None:
        """Every running worker is done rebalancing (its tables recovered)."""
        await wait_until(
            lambda: all(not w.app.rebalancing for w in self.workers if w.app.is_running),
            "the group to settle",
        )

    async def send(self, key: str, value: int) -> str:
        """Send one update; the URL of the worker whose agent stored it."""
        sender = self.workers[0].app
        updates = sender.topic("updates", key_type=str, value_type=int, key_serializer="json")
        await updates.send(key=key, value=value)
        stored = await asyncio.wait_for(self.processed.get(), TIMEOUT)
        assert stored[:2] == (key, value)
        return stored[2]

    async def get(
        self, worker: Worker, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, Any]:
        """``(status, JSON body, headers)`` of a GET to ``worker``."""
        async with self.http.get(worker.url + path, headers=headers) as response:
            return response.status, await response.json(), response.headers
