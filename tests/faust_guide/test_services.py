"""Faust's services, from the "Application" chapter (``@app.service()``), written as a Faust user
would: ``import strm as faust`` is the only change from a Faust application, and ``mode`` is the
``strm-mode-compat`` distribution."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mode
import pytest
import strm as faust
from mode import Service
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing import eventually


@pytest.fixture
def app(tmp_path: Path) -> Iterator[faust.App]:
    url = unique_url("guide-services")
    yield faust.App("guide-services", broker=url, store="memory://", datadir=str(tmp_path))
    drop_broker(url)


def test_faust_re_exports_modes_service() -> None:
    assert faust.Service is Service is mode.Service
    assert faust.ServiceT is mode.ServiceT


async def test_a_decorated_service_class_starts_and_stops_with_the_app(app: faust.App) -> None:
    lines: list[str] = []

    @app.service
    class MyService(Service):
        async def on_start(self) -> None:
            lines.append("MYSERVICE IS STARTING")

        async def on_stop(self) -> None:
            lines.append("MYSERVICE IS STOPPING")

        @Service.task
        async def _background_task(self) -> None:
            while not self.should_stop:
                lines.append("BACKGROUND TASK WAKE UP")
                await self.sleep(0.01)

    await app.start()
    await eventually(lambda: lines.count("BACKGROUND TASK WAKE UP") >= 2)
    await app.stop()
    assert lines[0] == "MYSERVICE IS STARTING"
    assert lines[-1] == "MYSERVICE IS STOPPING"


async def test_a_service_logs_through_self_log(
    app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.service
    class Greeter(faust.Service):
        async def on_start(self) -> None:
            self.log.info("STARTED")

    caplog.set_level("INFO")
    async with app.running():
        pass
    assert "[^Greeter]: STARTED" in caplog.messages


async def test_an_app_subclass_adds_a_service_instance(tmp_path: Path) -> None:
    class SomeService(Service):
        def __post_init__(self) -> None:
            self.ticks = 0

        @Service.timer(0.01)
        async def tick(self) -> None:
            self.ticks += 1

    class MyApp(faust.App):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.some_service = self.service(SomeService())

    url = unique_url("guide-services-subclass")
    app = MyApp("guide-services-subclass", broker=url, datadir=str(tmp_path))
    try:
        async with app.running():
            await eventually(lambda: app.some_service.ticks >= 2)
        ticks = app.some_service.ticks
        await asyncio.sleep(0.05)
        assert app.some_service.ticks == ticks  # its timer stopped with the app
    finally:
        drop_broker(url)


async def test_a_service_with_its_own_dependency(app: faust.App) -> None:
    order: list[str] = []

    class Connection(Service):
        async def on_start(self) -> None:
            order.append("connection up")

        async def on_stop(self) -> None:
            order.append("connection down")

    @app.service
    class Client(Service):
        def on_init_dependencies(self) -> list[mode.ServiceT]:
            return [Connection()]

        async def on_started(self) -> None:
            order.append("client ready")

        async def on_stop(self) -> None:
            order.append("client stopping")

    async with app.running():
        assert order == ["connection up", "client ready"]
    assert order[2:] == ["client stopping", "connection down"]
