"""The otel sensor in a running app on ``memory://``, read through the SDK's in-memory metric
reader and span exporter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import NoOpMeter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import ProducerRecord, TopicSpec
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory
from strm_sensor_otel import OtelSensor
from strm_sensor_otel.settings import SETTINGS

PLUGIN = "strm_sensor_otel"


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("otel")
    yield url
    drop_broker(url)


def preload(url: str, topic: str, partitions: int, count: int) -> None:
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, partitions))
    log = broker.topic(topic, lambda: partitions)
    for i in range(count):
        log.append(ProducerRecord(topic, i % partitions, b"k", b'{"n": %d}' % i))


def points(reader: InMemoryMetricReader, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    """The data points of metric ``name`` by their attributes (sorted pairs)."""
    data = reader.get_metrics_data()
    found: dict[tuple[tuple[str, Any], ...], Any] = {}
    if data is None:
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[tuple(sorted((point.attributes or {}).items()))] = point
    return found


def total(reader: InMemoryMetricReader, name: str) -> int:
    return sum(point.value for point in points(reader, name).values())


async def test_records_in_and_out_are_counted_by_partition(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    preload(broker_url, "orders", 2, 50)
    reader = InMemoryMetricReader()
    app = strm_app_factory(
        "otel-app",
        plugins=[PLUGIN],
        otel_enabled=True,
        broker=broker_url,
        topic_partitions=2,
        otel_meter_provider=MeterProvider(metric_readers=[reader]),
        otel_gauge_interval=0.05,
    )
    seen = 0

    @app.agent(app.topic("orders"), name="consume")
    async def consume(stream: Any) -> None:
        nonlocal seen
        async for value in stream:
            await app.topic("copies").send(value=value)
            seen += 1

    async with app.running():
        await eventually(lambda: seen == 50, timeout=20)
        await eventually(lambda: total(reader, "messaging.client.sent.messages") == 50, timeout=10)
        await eventually(lambda: total(reader, "strm.consumer.read_offset") == 50, timeout=10)
    consumed = points(reader, "messaging.client.consumed.messages")
    common = (
        ("messaging.consumer.group.name", "otel-app"),
        ("messaging.destination.name", "orders"),
    )
    assert {key: point.value for key, point in consumed.items()} == {
        tuple(sorted((*common, ("messaging.destination.partition.id", p),
                      ("messaging.system", "memory")))): 25
        for p in ("0", "1")
    }  # fmt: skip
    processed = points(reader, "strm.agent.processed.events")
    assert {dict(key)["strm.agent"] for key in processed} == {"consume"}
    assert sum(point.value for point in processed.values()) == 50
    sent = points(reader, "messaging.client.sent.messages")
    assert {dict(key)["messaging.destination.name"] for key in sent} == {"copies"}
    commits = points(reader, "strm.commit.duration")
    assert commits and all(point.count >= 1 for point in commits.values())


async def test_the_instruments_have_units(strm_app_factory: AppFactory, broker_url: str) -> None:
    reader = InMemoryMetricReader()
    app = strm_app_factory(
        "otel-app",
        plugins=[PLUGIN],
        otel_enabled=True,
        broker=broker_url,
        otel_meter_provider=MeterProvider(metric_readers=[reader]),
    )
    app.configure()
    sensor = next(s for s in app.sensors.sensors if type(s).__name__ == "OtelSensor")
    sensor.on_commit({}, 0.25)
    data = reader.get_metrics_data()
    assert data is not None
    units = {
        metric.name: metric.unit
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert units["strm.commit.duration"] == "s"


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


async def test_a_trace_crosses_a_send_and_a_receive(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    """Agent ``forward`` reads ``in`` and sends each value to ``out``; agent ``sink`` reads
    ``out``. Each record gives one trace: process in -> send out -> process out."""
    preload(broker_url, "in", 1, 3)
    exporter = InMemorySpanExporter()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(exporter))
    app = strm_app_factory(
        "otel-app",
        plugins=[PLUGIN],
        otel_enabled=True,
        broker=broker_url,
        topic_partitions=1,
        otel_meter_provider=MeterProvider(),
        otel_event_spans=True,
        otel_tracer_provider=tracers,
    )
    out = app.topic("out")
    sunk = 0

    @app.agent(app.topic("in"))
    async def forward(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value)

    @app.agent(out)
    async def sink(stream: Any) -> None:
        nonlocal sunk
        async for _ in stream:
            sunk += 1

    async with app.running():
        await eventually(lambda: sunk == 3, timeout=20)
        await eventually(lambda: len(spans_named(exporter, "process out")) == 3, timeout=10)
    received = spans_named(exporter, "process in")
    sends = spans_named(exporter, "send out")
    delivered = spans_named(exporter, "process out")
    assert (len(received), len(sends), len(delivered)) == (3, 3, 3)
    by_id = {span.context.span_id: span for span in exporter.get_finished_spans()}
    for span in delivered:
        assert span.kind is SpanKind.CONSUMER
        assert span.parent is not None and span.parent.is_remote
        send = by_id[span.parent.span_id]
        assert send.name == "send out" and send.kind is SpanKind.PRODUCER
        assert send.parent is not None
        source = by_id[send.parent.span_id]
        assert source.name == "process in" and source.parent is None
        assert span.context.trace_id == send.context.trace_id == source.context.trace_id
        assert span.attributes is not None
        assert span.attributes["messaging.destination.name"] == "out"
        assert span.attributes["messaging.operation.type"] == "process"
    assert len({span.context.trace_id for span in received}) == 3


async def test_the_span_of_an_event_an_agent_fails_on_is_an_error(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    preload(broker_url, "in", 1, 3)
    exporter = InMemorySpanExporter()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(exporter))
    app = strm_app_factory(
        "otel-app",
        plugins=[PLUGIN],
        otel_enabled=True,
        broker=broker_url,
        topic_partitions=1,
        otel_meter_provider=MeterProvider(),
        otel_event_spans=True,
        otel_tracer_provider=tracers,
    )
    seen: list[int] = []

    @app.agent(app.topic("in"))
    async def picky(stream: Any) -> None:
        async for value in stream:
            seen.append(value["n"])
            if value["n"] == 1:
                raise ValueError("no ones")

    async with app.running():
        await eventually(lambda: seen[-1:] == [2], timeout=20)
        await eventually(lambda: len(spans_named(exporter, "process in")) >= 2, timeout=10)
    spans = spans_named(exporter, "process in")
    failed = [span for span in spans if span.status.status_code is StatusCode.ERROR]
    assert len(failed) == 1
    (span,) = failed
    assert span.attributes is not None
    assert span.attributes["messaging.kafka.offset"] == 1
    assert span.attributes["error.type"] == "ValueError"
    assert [event.name for event in span.events] == ["exception"]


async def test_without_event_spans_no_tracer_is_installed(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory("otel-app", plugins=[PLUGIN], otel_enabled=True, broker=broker_url)
    assert app.configure().sensors.event_tracer is None


def test_a_provider_of_the_wrong_kind_is_refused(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        "otel-app", plugins=[PLUGIN], otel_enabled=True, otel_meter_provider=object()
    )
    with pytest.raises(ConfigurationError, match="otel_meter_provider"):
        app.configure()


def test_spans_from_the_environment(strm_app_factory: AppFactory) -> None:
    app: App = strm_app_factory(
        "otel-app",
        plugins=[PLUGIN],
        environ={"STRM_OTEL_ENABLED": "1", "STRM_OTEL_EVENT_SPANS": "true"},
    )
    assert app.configure().sensors.event_tracer is not None


def test_installed_but_not_enabled_it_records_nothing(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory("otel-app", plugins=[PLUGIN], otel_event_spans=True)
    sensors = app.configure().sensors
    assert not any(isinstance(sensor, OtelSensor) for sensor in sensors.sensors)
    assert sensors.event_tracer is None


class _Names(NoOpMeter):
    """A meter that keeps the name and unit of every instrument created with it."""

    def __init__(self) -> None:
        super().__init__("names")
        self.units: dict[str, str] = {}

    def _keep(self, name: str, unit: str) -> None:
        self.units[name] = unit

    def create_counter(self, name: str, unit: str = "", description: str = "") -> Any:
        self._keep(name, unit)
        return super().create_counter(name, unit, description)

    def create_histogram(self, name: str, unit: str = "", description: str = "", **kw: Any) -> Any:
        self._keep(name, unit)
        return super().create_histogram(name, unit, description, **kw)

    def create_observable_gauge(
        self, name: str, callbacks: Any = None, unit: str = "", description: str = ""
    ) -> Any:
        self._keep(name, unit)
        return super().create_observable_gauge(name, callbacks, unit, description)


def test_the_readme_lists_every_instrument_with_its_unit_and_every_setting(
    strm_app_factory: AppFactory,
) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    app = strm_app_factory("otel-app", plugins=[PLUGIN]).configure()
    meter = _Names()
    OtelSensor(app)._define(meter)
    assert len(meter.units) == 21
    for name, unit in meter.units.items():
        assert unit, name
        assert re.search(rf"\| `{re.escape(name)}` \| [a-z ]+ \| `{re.escape(unit)}` \|", readme), (
            name
        )
    for spec in SETTINGS:
        assert f"| `{spec.name}` |" in readme, spec.name
