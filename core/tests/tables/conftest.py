"""Apps with tables on a private in-memory broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing.pytest_plugin import AppFactory


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("tables")
    yield url
    drop_broker(url)


@pytest.fixture
def make_app(strm_app_factory: AppFactory, broker_url: str) -> Callable[..., App]:
    def make(id: str = "tapp", **settings: Any) -> App:
        settings.setdefault("broker", broker_url)
        settings.setdefault("topic_partitions", 2)
        return strm_app_factory(id, **settings)

    return make
