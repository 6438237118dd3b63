"""The driver-neutral part of the web server: requests, routes, CORS options, dispatch through
``app.web.handle`` and what happens when no driver plugin is installed."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import strm.web.server
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.web import (
    Blueprint,
    Headers,
    MultiMapping,
    Request,
    ResourceOptions,
    Response,
    View,
    WebRoute,
    WebServerError,
)
from strm.web.cors import coerce_options
from strm.web.routes import RouteTable

AppFactory = Callable[..., App]


async def test_a_request_reads_its_body_once_and_parses_it() -> None:
    calls = 0

    async def body() -> bytes:
        nonlocal calls
        calls += 1
        return '{"a": "é"}'.encode("latin-1")

    request = Request(
        "post",
        "/x",
        headers=Headers([("content-type", "application/json; charset=latin-1")]),
        body=body,
    )
    assert request.method == "POST" and request.content_type == "application/json"
    assert await request.json() == {"a": "é"}
    assert await request.read() == '{"a": "é"}'.encode("latin-1")
    assert calls == 1
    assert request.headers["Content-Type"].startswith("application/json")


def test_query_and_headers_keep_repeated_names() -> None:
    query = MultiMapping([("t", "a"), ("n", "1"), ("t", "b")])
    assert (query["t"], query.getall("t"), len(query), list(query)) == (
        "a",
        ["a", "b"],
        2,
        ["t", "n"],
    )
    headers = Headers([("X-A", "1"), ("x-a", "2")])
    assert headers["x-A"] == "1" and headers.getall("X-A") == ["1", "2"]
    with pytest.raises(KeyError):
        query["missing"]


def test_route_patterns_match_segments_and_regexes_and_format_back() -> None:
    class V(View):
        pass

    route = WebRoute("/t/{table}/k/{key:[0-9]+}/", V, name="k")
    assert route.match("/t/counts/k/42/") == {"table": "counts", "key": "42"}
    assert route.match("/t/counts/k/abc/") is None
    assert route.match("/t/a/b/k/1/") is None  # {table} is one segment
    assert route.format(table="c", key=7) == "/t/c/k/7/"
    table = RouteTable()
    table.add(route)
    with pytest.raises(ConfigurationError, match="two views for the path"):
        table.add(WebRoute("/t/{table}/k/{key:[0-9]+}/", type("W", (View,), {})))
    with pytest.raises(ConfigurationError, match="starts with '/'"):
        WebRoute("relative", V)


def test_cors_options_take_resource_options_or_their_fields() -> None:
    options = coerce_options({"*": {"allow_credentials": True}, "a": ResourceOptions()})
    assert options["*"].allow_credentials is True and options["a"] == ResourceOptions()
    with pytest.raises(ValueError, match="unknown field"):
        coerce_options({"*": {"allow_everything": True}})


async def test_dispatch_without_a_server(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory()
    bp = Blueprint("shop", url_prefix="/shop")

    @bp.route("/items/{id}/")
    async def item(self: View, request: Request, id: str) -> Response:
        return self.json({"id": id, "name": self.web.url_for("shop:item", id=id)})

    bp.register(app)
    response = await app.web.handle(Request("GET", "/shop/items/3/"))
    assert (response.status, response.content_type) == (200, "application/json")
    assert response.text == '{"id": "3", "name": "/shop/items/3/"}'
    assert (await app.web.handle(Request("GET", "/shop/../etc/passwd"))).status == 400
    assert (await app.web.handle(Request("DELETE", "/shop/items/3/"))).status == 405
    with pytest.raises(TypeError, match=r"subclass of strm\.web\.View"):
        app.page("/bad")(int)


async def test_without_a_driver_the_default_app_warns_once_and_runs_on(
    strm_app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(strm.web.server, "_warned_missing_driver", False)
    caplog.set_level(logging.WARNING, logger="strm.web")
    for _ in range(2):
        app = strm_app_factory()
        async with app.running():
            assert app.web.addresses == []
    lines = [r.getMessage() for r in caplog.records if "web server is off" in r.getMessage()]
    assert len(lines) == 1
    assert "pip install 'strm[web]'" in lines[0] and "web_enabled=False" in lines[0]


@pytest.mark.parametrize(
    "settings",
    [{"web_enabled": True}, {"web_port": 8123}, {"web_in_thread": True}],
    ids=["web_enabled", "web_port", "web_in_thread"],
)
async def test_without_a_driver_an_app_that_asks_for_the_server_does_not_start(
    strm_app_factory: AppFactory, settings: dict[str, object]
) -> None:
    app = strm_app_factory(**settings)
    with pytest.raises(WebServerError) as info:
        await app.start()
    (name,) = settings
    assert f"the web server cannot start ({name} given)" in str(info.value)
    assert not app.is_running
    quiet = strm_app_factory(
        web_enabled=False, **{k: v for k, v in settings.items() if k != "web_enabled"}
    )
    async with quiet.running():
        assert quiet.web.addresses == []
