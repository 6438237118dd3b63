"""Cached views through a real server on 127.0.0.1: ``app.cache.view()`` and a blueprint's
``cache()`` answer a repeated GET from the app's cache, without running the view again."""

from __future__ import annotations

import aiohttp
from strm.web import Blueprint, Request, Response, View

from conftest import WebApp, base_url


async def test_app_cache_view_answers_a_repeated_get_from_the_cache(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()
    runs: list[str] = []

    @app.page("/slow/{word}/")
    class Slow(View):
        @app.cache.view(timeout=60)
        async def get(self, request: Request, word: str) -> Response:
            runs.append(word)
            return self.json({"word": word, "run": len(runs)})

    async with app.running():
        url = base_url(app) + "/slow/a/"
        answers = []
        for _ in range(3):
            async with http.get(url) as resp:
                assert resp.status == 200
                answers.append(await resp.json())
        async with http.get(base_url(app) + "/slow/b/") as resp:
            assert (await resp.json())["run"] == 2
    assert answers == [{"word": "a", "run": 1}] * 3
    assert runs == ["a", "b"]


async def test_a_blueprints_cache_keeps_its_views_apart_under_its_name(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()
    users = Blueprint("users")
    cache = users.cache(timeout=60)
    runs: list[str] = []

    @users.route("/{name}/")
    class User(View):
        @cache.view()
        async def get(self, request: Request, name: str) -> Response:
            runs.append(name)
            return self.text(f"hello {name}")

    users.register(app, url_prefix="/users")
    assert cache.key_prefix == "users"
    async with app.running():
        for _ in range(2):
            async with http.get(base_url(app) + "/users/ada/") as resp:
                assert (resp.status, await resp.text()) == (200, "hello ada")
    assert runs == ["ada"]
