"""Sensors' ``start``/``stop`` around the runtime, and the per-event tracing hook
(``Sensor.event_tracer``, :mod:`strm.kernel.tracing`), on a memory:// broker."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import TP, Headers, Message
from strm.sensors import Sensor, SensorSet
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("sensor-life")
    yield url
    drop_broker(url)


class Journal(Sensor):
    """Writes what happens to it in ``log``."""

    def __init__(self, name: str, log: list[str], fail_start: bool = False) -> None:
        self.name, self.log, self.fail_start = name, log, fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise ConfigurationError(f"{self.name} cannot start")
        self.log.append(f"{self.name} start")

    async def stop(self) -> None:
        self.log.append(f"{self.name} stop")

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        self.log.append(f"{self.name} commit")


async def test_sensors_start_first_and_stop_after_the_last_commit(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    log: list[str] = []
    app = strm_app_factory("life", broker=broker_url)
    app.sensors.add(Journal("a", log))
    app.sensors.add(Journal("b", log))
    seen = 0

    @app.agent(app.topic("t"))
    async def consume(stream: Any) -> None:
        nonlocal seen
        async for _ in stream:
            seen += 1

    async with app.running():
        assert log == ["a start", "b start"]
        await app.topic("t").send(value=1)
        await eventually(lambda: seen == 1)
    assert log[-2:] == ["b stop", "a stop"]
    # The last checkpoint, made while stopping, was heard before the sensors stopped.
    assert log[-3:-2] == ["b commit"]


async def test_a_sensor_that_cannot_start_stops_the_start_and_those_started(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    log: list[str] = []
    app = strm_app_factory("life", broker=broker_url)
    app.sensors.add(Journal("a", log))
    app.sensors.add(Journal("b", log, fail_start=True))
    with pytest.raises(ConfigurationError, match="b cannot start"):
        await app.start()
    assert log == ["a start", "a stop"]
    assert not app.is_running


class Tracer:
    """An :class:`strm.kernel.tracing.EventTracer` keeping what it is told, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def event_in(self, message: Message) -> object:
        token = f"{message.topic}@{message.offset}"
        self.log.append(("in", token))
        return token

    def event_out(self, token: object) -> None:
        self.log.append(("out", token))

    def headers_out(self, topic: str, headers: Headers) -> Headers:
        self.log.append(("send", topic))
        return [*headers, ("trace", topic.encode())]


class Tracing(Sensor):
    def __init__(self) -> None:
        self.event_tracer = Tracer()


async def test_the_tracer_wraps_each_event_and_adds_headers_to_sends(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory("life", broker=broker_url, topic_partitions=1)
    tracing = Tracing()
    app.sensors.add(tracing)
    tracer = tracing.event_tracer
    out = app.topic("out")
    received: list[tuple[int, Mapping[str, bytes]]] = []

    @app.agent(app.topic("in"))
    async def forward(stream: Any) -> None:
        async for event in stream.events():
            tracer.log.append(("agent", f"in@{event.message.offset}"))
            await out.send(value=event.value)

    @app.agent(out)
    async def sink(stream: Any) -> None:
        async for event in stream.events():
            received.append((event.message.offset, dict(event.headers)))

    async with app.running():
        for i in range(2):
            await app.topic("in").send(value=i)
        await eventually(lambda: len(received) == 2)
    assert [h for _, h in received] == [{"trace": b"out"}] * 2
    # The test's own sends to "in" are traced too. Each event of "in": in, the agent's work and
    # its send, out, all before the next event of "in" comes in.
    assert tracer.log[:2] == [("send", "in"), ("send", "in")]
    forwarding = [entry for entry in tracer.log[2:] if not str(entry[1]).startswith("out@")]
    assert forwarding == [
        *[("in", "in@0"), ("agent", "in@0"), ("send", "out"), ("out", "in@0")],
        *[("in", "in@1"), ("agent", "in@1"), ("send", "out"), ("out", "in@1")],
    ]
    assert [e for e in tracer.log if str(e[1]).startswith("out@")] == [
        ("in", "out@0"),
        ("out", "out@0"),
        ("in", "out@1"),
        ("out", "out@1"),
    ]


def test_two_sensors_tracing_each_event_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="traces each event"):
        SensorSet([Tracing(), Tracing()])


def test_without_a_tracing_sensor_there_is_no_tracer() -> None:
    sensors = SensorSet([Sensor()])
    assert sensors.event_tracer is None
    tracing = Tracing()
    sensors.add(tracing)
    assert sensors.event_tracer is tracing.event_tracer
    sensors.remove(tracing)
    assert sensors.event_tracer is None
