"""Fixtures: apps with the aiohttp web server on a free port of 127.0.0.1, and an HTTP client.

Every server here listens on the loopback interface only; every wait is bounded.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url

#: Bound on every HTTP exchange of a test.
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)

WebApp = Callable[..., App]


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it; the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def web_app(strm_app_factory: Callable[..., App]) -> Iterator[WebApp]:
    """``web_app(**settings)``: an app with strm-web-aiohttp on 127.0.0.1 and a free port,
    on a memory broker of the test's own (dropped at teardown)."""
    broker = unique_url("web")

    def make(id: str = "web-test", **settings: Any) -> App:
        settings.setdefault("web_bind", "127.0.0.1")
        settings.setdefault("web_port", free_port())
        settings.setdefault("broker", broker)
        plugins = ["strm_web_aiohttp", *settings.pop("plugins", ())]
        return strm_app_factory(id, plugins=plugins, **settings)

    yield make
    drop_broker(broker)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        yield session


def base_url(app: App) -> str:
    (address,) = app.web.addresses
    return address
