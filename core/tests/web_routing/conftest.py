"""The ``cluster`` fixture: two running workers of one memory:// group (see routing_helpers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from routing_helpers import TIMEOUT, Cluster
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing.pytest_plugin import AppFactory


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """Two running workers of one group (more with ``await cluster.add()``)."""
    broker = unique_url("routes")
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        group = Cluster(broker, tmp_path, [], http)
        try:
            await group.add()
            await group.add()
            await group.settled()
            yield group
        finally:
            for worker in reversed(group.workers):
                if worker.app.is_running:
                    await worker.app.stop()
            drop_broker(broker)


@pytest.fixture
def idle_app(strm_app_factory: AppFactory) -> App:
    """An app that is never started: for what is checked when routes are declared."""
    return strm_app_factory()
