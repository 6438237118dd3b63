"""Views as Faust writes them, served by aiohttp on 127.0.0.1: pages and View classes,
responses, request bodies, errors, limits and paths that try to climb out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from strm.web import Request, Response, View

from conftest import WebApp, base_url


async def test_a_function_page_gets_its_placeholders_and_query(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()

    @app.page("/count/{word}/")
    async def count(self: View, request: Request, word: str) -> Response:
        tags = request.query.getall("t")  # type: ignore[attr-defined]
        return self.json({"word": word, "n": request.query.get("n"), "tags": tags})

    assert issubclass(count, View) and count.view_path == "/count/{word}/"
    async with app.running(), http.get(base_url(app) + "/count/hello/?n=3&t=a&t=b") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.json() == {"word": "hello", "n": "3", "tags": ["a", "b"]}


async def test_a_view_class_answers_each_verb_it_defines_and_405_for_the_others(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()
    items: dict[str, Any] = {}

    @app.page("/items/{key}")
    class Items(View):
        async def get(self, request: Request, key: str) -> Response:
            if key not in items:
                return self.notfound(f"no item {key}")
            return self.json(items[key])

        async def post(self, request: Request, key: str) -> Response:
            items[key] = await request.json()
            return self.json(items[key], status=201, headers={"X-Key": key})

        async def put(self, request: Request, key: str) -> Response:
            items[key] = await request.text()
            return self.text(items[key])

        async def patch(self, request: Request, key: str) -> Response:
            return self.bytes(await request.read(), content_type="application/x-raw")

        async def delete(self, request: Request, key: str) -> Response:
            items.pop(key, None)
            return self.html("<p>gone</p>", status=202)

    async with app.running():
        url = base_url(app) + "/items/a"
        async with http.get(url) as resp:
            assert resp.status == 404
            assert await resp.json() == {"error": "no item a"}
        async with http.post(url, json={"n": 1}) as resp:
            assert (resp.status, resp.headers["X-Key"]) == (201, "a")
            assert await resp.json() == {"n": 1}
        async with http.get(url) as resp:
            assert await resp.json() == {"n": 1}
        async with http.put(url, data="plain ünïcode".encode()) as resp:
            assert resp.content_type == "text/plain" and resp.charset == "utf-8"
            assert await resp.text() == "plain ünïcode"
        async with http.patch(url, data=b"\x00\xff") as resp:
            assert resp.content_type == "application/x-raw"
            assert await resp.read() == b"\x00\xff"
        async with http.delete(url) as resp:
            assert (resp.status, resp.content_type) == (202, "text/html")
            assert await resp.text() == "<p>gone</p>"
        async with http.head(url) as resp:
            assert resp.status == 404  # HEAD follows GET
        async with http.options(url) as resp:
            assert resp.status == 405
            assert set(resp.headers["Allow"].split(", ")) == {
                "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"
            }  # fmt: skip


async def test_error_and_web_errors_answer_json_with_their_status(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()

    @app.page("/teapot")
    async def teapot(self: View, request: Request) -> Response:
        return self.error(418, "I'm a teapot", kind="tea")

    @app.page("/forbidden")
    async def forbidden(self: View, request: Request) -> Response:
        raise self.PermissionDenied("not yours", owner="someone")

    async with app.running():
        async with http.get(base_url(app) + "/teapot") as resp:
            assert resp.status == 418
            assert await resp.json() == {"error": "I'm a teapot", "kind": "tea"}
        async with http.get(base_url(app) + "/forbidden") as resp:
            assert resp.status == 403
            assert await resp.json() == {"error": "not yours", "owner": "someone"}
        async with http.get(base_url(app) + "/nowhere") as resp:
            assert resp.status == 404
            assert await resp.json() == {"error": "Not Found"}


async def test_a_body_that_does_not_parse_is_400_with_a_json_reason(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()

    @app.page("/echo")
    class Echo(View):
        async def post(self, request: Request) -> Response:
            return self.json(await request.json())

    headers = {"Content-Type": "application/json"}
    async with app.running():
        async with http.post(base_url(app) + "/echo", data=b"{not json", headers=headers) as resp:
            assert resp.status == 400
            body = await resp.json()
            assert body["error"].startswith("the request body is not valid JSON")
        latin = {"Content-Type": "application/json; charset=utf-8"}
        async with http.post(base_url(app) + "/echo", data=b'"\xff"', headers=latin) as resp:
            assert resp.status == 400
            assert "not valid utf-8 text" in (await resp.json())["error"]


async def test_a_view_that_raises_is_500_logged_with_its_traceback_and_the_server_goes_on(
    web_app: WebApp, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    app = web_app()

    @app.page("/boom")
    async def boom(self: View, request: Request) -> Response:
        raise ZeroDivisionError("the view's own bug")

    @app.page("/fine")
    async def fine(self: View, request: Request) -> Response:
        return self.json({"ok": True})

    @app.page("/not-a-response")
    async def not_a_response(self: View, request: Request) -> Any:
        return {"ok": True}

    caplog.set_level(logging.ERROR, logger="strm.web")
    async with app.running():
        for _ in range(3):
            async with http.get(base_url(app) + "/boom") as resp:
                assert resp.status == 500
                assert await resp.json() == {"error": "Internal Server Error"}
            async with http.get(base_url(app) + "/fine") as resp:
                assert resp.status == 200
        async with http.get(base_url(app) + "/not-a-response") as resp:
            assert resp.status == 500
        assert app.crash_error is None
    failures = [r for r in caplog.records if "GET /boom failed" in r.getMessage()]
    assert len(failures) == 3
    assert failures[0].exc_info is not None and failures[0].exc_info[0] is ZeroDivisionError
    (wrong,) = [r for r in caplog.records if "/not-a-response" in r.getMessage()]
    assert "returned dict, not a Response" in wrong.getMessage()


async def test_a_body_over_the_limit_is_413_read_or_not(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app(web_max_body_size=1000)
    seen: list[int] = []

    @app.page("/upload")
    class Upload(View):
        async def post(self, request: Request) -> Response:
            data = await request.read()
            seen.append(len(data))
            return self.json({"size": len(data)})

        async def put(self, request: Request) -> Response:
            seen.append(-1)  # never reads the body
            return self.json({})

    async def chunks() -> Any:
        for _ in range(5):
            yield b"x" * 400

    async with app.running():
        url = base_url(app) + "/upload"
        async with http.post(url, data=b"x" * 1000) as resp:
            assert (resp.status, await resp.json()) == (200, {"size": 1000})
        async with http.post(url, data=b"x" * 1001) as resp:
            assert resp.status == 413
            assert (await resp.json())["limit"] == 1000
        async with http.put(url, data=b"x" * 5000) as resp:
            assert resp.status == 413
        async with http.post(url, data=chunks()) as resp:  # chunked: no Content-Length
            assert resp.status == 413
            assert "larger than 1000 bytes" in (await resp.json())["error"]
    assert seen == [1000]


async def _raw_get(app_url: str, target: str) -> tuple[int, bytes]:
    """Send ``GET target`` byte for byte (no client normalises it) and read the answer."""
    host, _, port = app_url.removeprefix("http://").rpartition(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    "target",
    [
        "/../../../../etc/passwd",
        "/files/../../etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/files/..%5c..%5cetc%5cpasswd",
        "/files/.%00./etc/passwd",
        "/files/./secret",
    ],
)
async def test_a_path_that_climbs_out_is_refused_and_never_reaches_a_file(
    web_app: WebApp, target: str
) -> None:
    app = web_app()
    served: list[str] = []

    @app.page("/files/{name:.+}")
    async def files(self: View, request: Request, name: str) -> Response:
        served.append(name)
        return self.text(name)

    async with app.running():
        status, body = await _raw_get(base_url(app), target)
    assert status in (400, 404)
    assert b"root:" not in body
    assert served == []
