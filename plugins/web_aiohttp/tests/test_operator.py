"""The operator's endpoints over HTTP: ``/``, ``/health`` during and after recovery,
``/stats/`` and routes a plugin adds through ``strm_web_routes``."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from strm.web import Request, Response, View
from strm.web.apps.stats import blueprint as stats_blueprint
from strm.web.operator import strm_version

from conftest import WebApp, base_url


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_the_index_says_which_app_which_strm_and_its_state(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app("orders")
    async with app.running():
        status, body = await _get(http, base_url(app) + "/")
    assert status == 200
    assert body == {"app": "orders", "strm": strm_version(), "state": "running"}
    assert body["strm"] != "unknown"


async def test_health_is_503_while_the_start_recovers_and_200_once_it_is_done(
    web_app: WebApp, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = web_app()
    app.Table("counts", default=int)
    release = asyncio.Event()
    settle = app.runtime.conductor.wait_settled

    async def held_settle() -> None:  # the group's assignment and recovery wait for the test
        await asyncio.wait_for(release.wait(), 10)
        await settle()

    monkeypatch.setattr(app.runtime.conductor, "wait_settled", held_settle)
    start = asyncio.create_task(app.start())
    try:
        async with asyncio.timeout(10):
            while not app.web.addresses:
                await asyncio.sleep(0.01)
        url = base_url(app)
        assert await _get(http, url + "/health") == (
            503,
            {"status": "unavailable", "state": "starting"},
        )
        assert (await _get(http, url + "/"))[1]["state"] == "starting"
        release.set()
        await asyncio.wait_for(start, 10)
        assert await _get(http, url + "/health") == (200, {"status": "ok", "state": "running"})
    finally:
        release.set()
        await asyncio.wait_for(start, 10)
        await app.stop()


async def test_stats_are_served_under_debug_only(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    quiet = web_app()
    async with quiet.running():
        assert (await _get(http, base_url(quiet) + "/stats/"))[0] == 404
    app = web_app(debug=True)
    topic = app.topic("words", value_type=str)

    @app.agent(topic)
    async def words(stream: Any) -> None:
        async for _ in stream:
            pass

    async with app.running():
        for word in ("a", "b", "c"):
            await topic.send(value=word)
        url = base_url(app)
        async with asyncio.timeout(10):
            while True:
                status, body = await _get(http, url + "/stats/")
                assert status == 200
                monitor = body["Sensor0"]
                if monitor["events_total"] == 3 and monitor["lag_total"] == 0:
                    break
                await asyncio.sleep(0.02)
        assert monitor["messages_received_total"] == 3
        assert monitor["messages_sent_by_topic"] == {"words": 3}
        assert monitor["agents"][words.name]["events_total"] == 3
        assert sum(p["highwater"] for p in monitor["partitions"].values()) == 3
        status, assignment = await _get(http, url + "/stats/assignment/")
    assert status == 200
    assert set(assignment) == {"actives", "standbys"}
    assert assignment["actives"]["words"] == list(range(len(assignment["actives"]["words"])))


async def test_the_stats_blueprint_can_be_registered_without_debug(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()
    stats_blueprint.register(app, url_prefix="/monitor/")
    async with app.running():
        status, body = await _get(http, base_url(app) + "/monitor/")
    assert status == 200 and "Sensor0" in body


async def test_a_plugin_serves_its_routes_through_the_strm_web_routes_hook(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app(plugins=["metrics_plugin"])

    @app.page("/mine")
    async def mine(self: View, request: Request) -> Response:
        return self.text("the app's own")

    async with app.running():
        async with http.get(base_url(app) + "/metrics") as resp:
            assert resp.status == 200
            assert await resp.text() == "strm_messages_received_total 0\n"
        async with http.get(base_url(app) + "/mine") as resp:
            assert await resp.text() == "the app's own"  # the app's view wins


async def test_an_app_that_serves_its_own_index_keeps_it(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()

    @app.page("/")
    async def index(self: View, request: Request) -> Response:
        return self.html("<h1>shop</h1>")

    async with app.running(), http.get(base_url(app) + "/") as resp:
        assert await resp.text() == "<h1>shop</h1>"
