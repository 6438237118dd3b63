"""Views as Faust writes them, served by aiohttp on 127.0.0.1."""

from __future__ import annotations

import aiohttp
from strm.web import Request, Response, View

from conftest import WebApp, base_url


async def test_a_function_page_gets_its_placeholders_and_query(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()

    @app.page("/count/{word}/")
    async def count(self: View, request: Request, word: str) -> Response:
        return self.json(
            {"word": word, "n": request.query.get("n"), "all": request.query.getall("t")}
        )  # type: ignore[attr-defined]

    async with app.running(), http.get(base_url(app) + "/count/hello/?n=3&t=a&t=b") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.json() == {"word": "hello", "n": "3", "all": ["a", "b"]}
