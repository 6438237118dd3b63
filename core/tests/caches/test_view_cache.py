"""``@app.cache.view()`` and ``ViewCache``: view handlers answered from the cache.

The handlers here are the web's ``async def get(self, request, **kwargs)`` on a small view and
request of this module (the web server is another part of strm); what is checked is what the
decorator does with them: the key, the 200s, the timeouts, the HEADs, an unavailable backend.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_cache import MemoryCache
from strm.caches import responses
from strm.caches.front import AppCache
from strm.caches.view import ViewCache
from strm.kernel.spi import CacheUnavailable
from strm.testing.contracts import FakeClock


@dataclass
class Request:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: MutableMapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    charset: str | None = None
    reason: str | None = None


class CountingView:
    """A view whose ``get`` counts its runs and answers with the status it is told."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.runs = 0
        self.status = 200
        self.headers: dict[str, str] = {}

    async def handle(self, request: Request, **kwargs: Any) -> Response:
        self.runs += 1
        body = f"run {self.runs} of {request.path} {sorted(kwargs.items())}".encode()
        return Response(self.status, body, dict(self.headers))


def cached_view(app: App, **options: Any) -> tuple[CountingView, Any]:
    view = CountingView(app)
    get = app.cache.view(**options)(CountingView.handle)
    return view, get


async def test_a_second_request_is_answered_from_the_cache(strm_app: App) -> None:
    view, get = cached_view(strm_app)
    first = await get(view, Request("GET", "/orders/1"), order="1")
    second = await get(view, Request("GET", "/orders/1"), order="1")
    assert view.runs == 1
    assert (second.status, second.body) == (200, first.body)
    assert second.content_type == first.content_type


async def test_the_key_is_method_path_and_query(strm_app: App) -> None:
    view, get = cached_view(strm_app)
    await get(view, Request("GET", "/orders"))
    await get(view, Request("GET", "/orders", query={"page": "2"}))
    await get(view, Request("GET", "/orders", query={"page": "2"}))
    await get(view, Request("GET", "/other"))
    await get(view, Request("POST", "/orders"))
    await get(view, Request("GET", "/orders", headers={"Accept": "text/plain"}))
    assert view.runs == 4


async def test_include_headers_keys_on_the_request_headers(strm_app: App) -> None:
    view, get = cached_view(strm_app, include_headers=True)
    await get(view, Request("GET", "/a", headers={"Accept": "text/plain"}))
    await get(view, Request("GET", "/a", headers={"accept": "text/plain"}))
    await get(view, Request("GET", "/a", headers={"Accept": "application/json"}))
    assert view.runs == 2


@pytest.mark.parametrize("status", [201, 204, 301, 404, 500, 503])
async def test_only_200s_are_cached(strm_app: App, status: int) -> None:
    view, get = cached_view(strm_app)
    view.status = status
    await get(view, Request("GET", "/a"))
    response = await get(view, Request("GET", "/a"))
    assert (view.runs, response.status) == (2, status)


async def test_a_response_setting_a_cookie_is_not_cached(strm_app: App) -> None:
    view, get = cached_view(strm_app)
    view.headers = {"Set-Cookie": "session=abc"}
    await get(view, Request("GET", "/a"))
    await get(view, Request("GET", "/a"))
    assert view.runs == 2


async def test_headers_status_and_body_come_back_exactly(strm_app: App) -> None:
    view, get = cached_view(strm_app)
    view.headers = {"X-Total": "3", "Cache-Control": "max-age=60"}
    first = await get(view, Request("GET", "/a"))
    hit = await get(view, Request("GET", "/a"))
    assert isinstance(hit, responses.CachedResponse)
    assert (hit.status, hit.body, dict(hit.headers), hit.content_type) == (
        200,
        first.body,
        {"X-Total": "3", "Cache-Control": "max-age=60"},
        "application/json",
    )


async def test_timeouts_expire_responses(strm_app: App) -> None:
    clock = FakeClock()
    strm_app.cache = MemoryCache(clock=clock)
    view, get = cached_view(strm_app, timeout=10)
    await get(view, Request("GET", "/a"))
    clock.advance(9)
    await get(view, Request("GET", "/a"))
    assert view.runs == 1
    clock.advance(2)
    await get(view, Request("GET", "/a"))
    assert view.runs == 2


async def test_the_view_timeout_overrides_the_cache_s(strm_app: App) -> None:
    clock = FakeClock()
    backend = AppCache(MemoryCache(clock=clock))
    cache = ViewCache(timeout=timedelta(seconds=100), backend=backend)
    view = CountingView(strm_app)
    short = cache.view(timeout=1)(CountingView.handle)
    default = cache.view()(CountingView.handle)
    await short(view, Request("GET", "/short"))
    await default(view, Request("GET", "/default"))
    clock.advance(50)
    await short(view, Request("GET", "/short"))
    await default(view, Request("GET", "/default"))
    assert view.runs == 3


async def test_a_head_is_answered_by_the_get_s_response(strm_app: App) -> None:
    view, get = cached_view(strm_app)
    await get(view, Request("GET", "/a"))
    head = await get(view, Request("HEAD", "/a"))
    assert (view.runs, head.status) == (1, 200)
    await get(view, Request("HEAD", "/b"))
    await get(view, Request("HEAD", "/b"))
    assert view.runs == 2


async def test_key_prefixes_separate_caches(strm_app: App) -> None:
    backend = AppCache(MemoryCache())
    view = CountingView(strm_app)
    one = ViewCache(key_prefix="one", backend=backend).view()(CountingView.handle)
    two = ViewCache(key_prefix="two", backend=backend).view()(CountingView.handle)
    overridden = ViewCache(key_prefix="two", backend=backend).view(key_prefix="one")(
        CountingView.handle
    )
    await one(view, Request("GET", "/a"))
    await two(view, Request("GET", "/a"))
    await overridden(view, Request("GET", "/a"))
    assert view.runs == 2


def test_keys_are_short_and_named() -> None:
    cache = ViewCache(key_prefix="shop")
    key = cache.key_for_request(Request("get", "/x" * 500, query={"q": "ü " * 100}))
    assert key.startswith("strm.cache.view.shop.GET.")
    assert len(key) < 120


async def test_the_handler_answers_when_the_backend_is_unavailable(strm_app: App) -> None:
    class Down(MemoryCache):
        async def get(self, key: str) -> bytes | None:
            raise CacheUnavailable("down")

        async def set(self, key: str, value: bytes, timeout: float | None = None) -> None:
            raise CacheUnavailable("down")

    view = CountingView(strm_app)
    # Given the raw backend, not app.cache's front: the view cache copes by itself too.
    get = ViewCache(backend=Down()).view()(CountingView.handle)
    for _ in range(3):
        assert (await get(view, Request("GET", "/a"))).status == 200
    assert view.runs == 3


async def test_a_foreign_value_under_the_key_is_a_miss(
    strm_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    view, get = cached_view(strm_app)
    key = ViewCache().key_for_request(Request("GET", "/a"))
    await strm_app.cache.set(key, b"something else")
    response = await get(view, Request("GET", "/a"))
    assert (view.runs, response.status) == (1, 200)
    assert any("not a cached response" in r.getMessage() for r in caplog.records)
    await get(view, Request("GET", "/a"))
    assert view.runs == 1


async def test_a_view_s_own_response_codec_is_used(strm_app: App) -> None:
    class FaustStyleView(CountingView):
        def response_to_bytes(self, response: Response) -> bytes:
            return responses.response_to_bytes(response)

        def bytes_to_response(self, payload: bytes) -> Response:
            return responses.bytes_to_response(payload, Response)  # type: ignore[no-any-return]

    view = FaustStyleView(strm_app)
    get = strm_app.cache.view()(FaustStyleView.handle)
    await get(view, Request("GET", "/a"))
    hit = await get(view, Request("GET", "/a"))
    assert type(hit) is Response
    assert view.runs == 1


async def test_a_backend_url_is_made_through_the_view_s_app(strm_app: App) -> None:
    cache = ViewCache(backend="memory://")
    view = CountingView(strm_app)
    get = cache.view()(CountingView.handle)
    await get(view, Request("GET", "/a"))
    await get(view, Request("GET", "/a"))
    assert view.runs == 1
    key = cache.key_for_request(Request("GET", "/a"))
    assert await strm_app.cache.get(key) is None, "a URL backend is not app.cache"


def test_options_strm_does_not_have_are_refused(strm_app: App) -> None:
    with pytest.raises(TypeError, match="vary_on"):
        strm_app.cache.view(vary_on=["Cookie"])
    with pytest.raises(TypeError, match="vary_on"):
        ViewCache(vary_on=["Cookie"])


def test_the_wrapper_keeps_the_handler_s_name() -> None:
    get = ViewCache().view()(CountingView.handle)
    assert get.__name__ == "handle"
    assert get.__wrapped__ is CountingView.handle  # type: ignore[attr-defined]


def test_responses_round_trip_bytes_and_repeated_headers() -> None:
    class Multi(dict[str, str]):
        def items_all(self) -> list[tuple[str, str]]:
            return [("Vary", "Accept"), ("Vary", "Origin")]

    body = bytes(range(256)) + b"\n\n"
    payload = responses.response_to_bytes(Response(200, body, Multi(), "image/png", None, "OK"))
    back = responses.bytes_to_response(payload)
    assert (back.body, back.headers, back.content_type, back.reason) == (
        body,
        {"Vary": "Accept, Origin"},
        "image/png",
        "OK",
    )
    for broken in (b"", b"strm-cached-response/1\n{", b"strm-cached-response/1\n[]\n"):
        with pytest.raises(responses.NotACachedResponse):
            responses.bytes_to_response(broken)


async def test_hits_are_logged_at_debug_only(
    strm_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="strm.cache")
    view, get = cached_view(strm_app)
    await get(view, Request("GET", "/a"))
    await get(view, Request("GET", "/a"))
    assert not caplog.records
