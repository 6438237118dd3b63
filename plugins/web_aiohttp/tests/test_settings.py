"""Each web setting, honoured over a real server on the loopback interface."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from strm.app import App
from strm.kernel.errors import BackendNotFoundError
from strm.web import Request, Response, View, WebServerError

from conftest import HTTP_TIMEOUT, WebApp, base_url, free_port


async def test_web_port_and_web_bind_say_where_the_server_listens(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    app = web_app(web_port=port, web_bind="127.0.0.1")
    async with app.running():
        assert app.web.addresses == [f"http://127.0.0.1:{port}"]
        async with http.get(f"http://127.0.0.1:{port}/health") as resp:
            assert resp.status == 200
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(f"http://127.0.0.1:{port}/health")


async def test_web_enabled_false_runs_no_server(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    app = web_app(web_enabled=False, web_port=port)
    async with app.running():
        assert app.web.addresses == []
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_web_host_and_canonical_url_make_the_urls_of_views(web_app: WebApp) -> None:
    app = web_app(web_host="node-1.example", web_port=7001)

    @app.page("/orders/{id}/", name="order")
    async def order(self: View, request: Request, id: str) -> Response:
        return self.text(self.url_for("order", id=id))

    assert app.conf.canonical_url == "http://node-1.example:7001"
    view = order(app, app.web)
    assert view.url_for("order", id="9") == "http://node-1.example:7001/orders/9/"
    other = web_app(canonical_url="https://front.example")
    assert other.conf.canonical_url == "https://front.example"


async def test_a_port_in_use_stops_the_start_with_one_line(web_app: WebApp) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = web_app(web_port=taken.getsockname()[1])
        with pytest.raises(WebServerError) as info:
            await app.start()
    message = str(info.value)
    assert "\n" not in message
    assert "cannot listen on http://127.0.0.1:" in message and "address is in use" in message
    assert not app.is_running


async def test_web_in_thread_serves_from_its_own_thread_and_loop(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app(web_in_thread=True)
    seen: list[tuple[int, asyncio.AbstractEventLoop]] = []

    @app.page("/where")
    async def where(self: View, request: Request) -> Response:
        seen.append((threading.get_ident(), asyncio.get_running_loop()))
        return self.json({"ok": True})

    async with app.running():
        async with http.get(base_url(app) + "/where") as resp:
            assert resp.status == 200
        assert [t.name for t in threading.enumerate()].count("strm-web") == 1
    ((thread, loop),) = seen
    assert thread != threading.get_ident() and loop is not asyncio.get_running_loop()
    assert "strm-web" not in [t.name for t in threading.enumerate()]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_web_ssl_context_serves_https(web_app: WebApp, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    app = web_app(web_ssl_context=server)
    client = ssl.create_default_context(cafile=str(cert))
    async with app.running():
        url = base_url(app)
        assert url.startswith("https://127.0.0.1:")
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
            async with http.get(url + "/health", ssl=client) as resp:
                assert resp.status == 200
            with pytest.raises(aiohttp.ClientError):  # plain HTTP gets no answer
                await http.get(url.replace("https", "http") + "/health")


async def test_a_unix_socket_transport(web_app: WebApp, tmp_path: Path) -> None:
    path = tmp_path / "web.sock"
    app = web_app(web_transport=f"unix://{path}")
    async with app.running():
        assert app.web.addresses == [f"unix://{path}"]
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector, timeout=HTTP_TIMEOUT) as http,
            http.get("http://localhost/health") as resp,
        ):
            assert resp.status == 200
    assert not path.exists()  # removed at stop


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda p: p.write_text("not a socket"), "exists and is not a socket"),
        (lambda p: None, "its directory does not exist"),
    ],
    ids=["a-file-is-there", "no-such-directory"],
)
async def test_a_socket_path_that_is_taken_or_cannot_be_made_is_one_line(
    web_app: WebApp, tmp_path: Path, prepare: Callable[[Path], object], expected: str
) -> None:
    path = tmp_path / "web.sock" if expected.startswith("exists") else tmp_path / "no" / "w.sock"
    prepare(path)
    app = web_app(web_transport=f"unix://{path}")
    with pytest.raises(WebServerError) as info:
        await app.start()
    assert expected in str(info.value) and "\n" not in str(info.value)


async def test_a_socket_a_live_server_holds_is_refused_and_a_stale_one_replaced(
    web_app: WebApp, tmp_path: Path
) -> None:
    path = tmp_path / "web.sock"
    first = web_app(web_transport=f"unix://{path}")
    async with first.running():
        second = web_app(web_transport=f"unix://{path}")
        with pytest.raises(WebServerError, match="another server is listening there"):
            await second.start()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a killed worker leaves behind
    stale.close()
    third = web_app(web_transport=f"unix://{path}")
    async with third.running():
        assert third.web.addresses == [f"unix://{path}"]


async def test_the_web_setting_picks_the_driver_by_scheme(web_app: WebApp) -> None:
    assert web_app(web="aiohttp://").resolve_backend("web").name == "aiohttp"
    with pytest.raises(BackendNotFoundError, match="web scheme 'uvicorn://'; installed: aiohttp"):
        web_app(web="uvicorn://").configure()


async def test_app_http_client_is_an_aiohttp_session_closed_when_the_app_stops(
    web_app: WebApp,
) -> None:
    app = web_app()

    @app.page("/hello")
    async def hello(self: View, request: Request) -> Response:
        return self.text("hello")

    async with app.running():
        client = app.http_client
        assert isinstance(client, aiohttp.ClientSession)
        assert app.http_client is client
        async with client.get(base_url(app) + "/hello", timeout=HTTP_TIMEOUT) as resp:
            assert await resp.text() == "hello"
    assert client.closed
    async with app.running():
        assert app.http_client is not client  # a new one per run
    assert app.http_client is not None


def test_without_the_driver_plugin_http_client_names_what_to_install(
    strm_app_factory: Callable[..., App],
) -> None:
    app = strm_app_factory()
    with pytest.raises(Exception, match=r"pip install 'strm\[web\]'"):
        _ = app.http_client
