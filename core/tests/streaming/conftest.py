"""Apps on a private in-memory broker, and a bounded wait for asynchronous outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing.pytest_plugin import AppFactory


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("streaming")
    yield url
    drop_broker(url)


@pytest.fixture
def make_app(strm_app_factory: AppFactory, broker_url: str) -> Callable[..., App]:
    """``make_app(id='app', **settings)``: an app on this test's broker."""

    def make(id: str = "app", **settings: Any) -> App:
        settings.setdefault("broker", broker_url)
        return strm_app_factory(id, **settings)

    return make
