"""``/dashboard/`` over HTTP, without a browser: the page's files as package data, nothing they
load from another host, the figures the page polls, and the built-in plugin that serves it."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.web.apps.dashboard import FILES, read_file

EVENTS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def make_app(strm_app_factory: Callable[..., App]) -> Iterator[Callable[..., App]]:
    broker = unique_url("dash")

    def make(*plugins: str, **settings: Any) -> App:
        return strm_app_factory(
            "dash",
            plugins=["strm_web_aiohttp", *plugins],
            broker=broker,
            web_bind="127.0.0.1",
            web_port=free_port(),
            **settings,
        )

    yield make
    drop_broker(broker)


async def _get(url: str, **kw: Any) -> tuple[int, str, bytes, dict[str, str]]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url, **kw) as resp:
        return resp.status, resp.content_type, await resp.read(), dict(resp.headers)


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_page_loads_nothing_from_another_host(name: str) -> None:
    text = read_file(name).decode("utf-8")
    assert "://" not in text, f"{name} names a URL: the page must work offline"
    assert not re.search(r"""(src|href)=["']//""", text)
    assert "@import" not in text


async def test_the_page_its_files_and_the_figures_it_polls(make_app: Callable[..., App]) -> None:
    app = make_app()
    orders = app.topic("orders", partitions=2, key_type=str, value_type=int)

    @app.agent(orders)
    async def checker(stream: Any) -> None:
        async for value in stream:
            if value < 0:
                raise ValueError(f"negative amount {value}")

    async with app.running():
        (base,) = app.web.addresses
        for i in range(EVENTS):
            await orders.send(key=f"k{i}", value=i)
        await orders.send(key="bad", value=-5)

        status, content_type, body, headers = await _get(base + "/dashboard/")
        assert (status, content_type) == (200, "text/html")
        assert b"dashboard.js" in body and headers["Cache-Control"] == "no-cache"
        for name, expected in FILES.items():
            status, content_type, body, _ = await _get(f"{base}/dashboard/{name}")
            assert (status, content_type, body) == (200, expected, read_file(name))
        assert (await _get(base + "/dashboard/other.js"))[0] == 404
        status, _, _, headers = await _get(base + "/dashboard", allow_redirects=False)
        assert (status, headers["Location"]) == (308, "/dashboard/")

        async with asyncio.timeout(15):
            while True:
                _, _, body, _ = await _get(base + "/dashboard/snapshot.json")
                snap = json.loads(body)
                if snap["totals"]["events_in"] == EVENTS + 1 and snap["errors"]:
                    break
                await asyncio.sleep(0.05)
    assert snap["app"] == "dash" and snap["state"] == "running"
    (agent,) = snap["agents"]
    assert agent["name"].endswith("checker") and agent["channel"] == "orders"
    assert agent["errors"] == 1
    assert [(p["topic"], p["partition"]) for p in snap["partitions"]] == [
        ("orders", 0),
        ("orders", 1),
    ]
    assert sum(p["events"] for p in snap["partitions"]) == EVENTS + 1
    (error,) = [e for e in snap["errors"] if e["where"].startswith("agent")]
    assert (error["type"], error["message"]) == ("ValueError", "negative amount -5")
    assert snap["rebalances"] and snap["rebalances"][0]["assigned"] >= 2


async def test_blocking_the_built_in_plugin_leaves_the_dashboard_out(
    make_app: Callable[..., App],
) -> None:
    app = make_app("no:dashboard")
    async with app.running():
        (base,) = app.web.addresses
        assert (await _get(base + "/dashboard/"))[0] == 404
        assert (await _get(base + "/health"))[0] == 200


async def test_with_the_monitor_off_the_page_still_has_lag_and_tables(
    make_app: Callable[..., App],
) -> None:
    app = make_app(Monitor="strm.NoMonitor")
    orders = app.topic("orders", partitions=2, key_type=str, value_type=int)
    totals = app.Table("totals", default=int, partitions=2)

    @app.agent(orders)
    async def add(stream: Any) -> None:
        async for key, value in stream.items():
            totals[key] += value

    async with app.running():
        (base,) = app.web.addresses
        for i in range(10):
            await orders.send(key=f"k{i}", value=1)
        async with asyncio.timeout(15):
            while True:
                status, _, body, _ = await _get(base + "/dashboard/snapshot.json")
                assert status == 200, body
                snap = json.loads(body)
                if [t["size"] for t in snap["tables"]] == [10] and snap["totals"]["lag"] == 0:
                    break
                await asyncio.sleep(0.05)
    assert snap["monitor"] == "off"
    assert snap["totals"]["events_in"] is None
    (agent,) = snap["agents"]
    assert agent["events"] is None and agent["channel"] == "orders"
    assert [p["lag"] for p in snap["partitions"]] == [0, 0]
