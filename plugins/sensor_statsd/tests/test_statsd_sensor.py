"""The statsd sensor in a running app on ``memory://``, heard by a UDP socket on 127.0.0.1.

The app reads a known number of records; the lines that reach the socket are checked exactly
(names, values, types), one line per batch and not one per record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import drop_broker, get_broker, unique_url
from strm.kernel.errors import ConfigurationError
from strm.kernel.spi import ProducerRecord, TopicSpec
from strm.testing import eventually
from strm.testing.pytest_plugin import AppFactory
from strm_sensor_statsd import StatsdSensor
from strm_sensor_statsd.client import MAX_PACKET, StatsdClient
from strm_sensor_statsd.naming import METRICS
from strm_sensor_statsd.settings import SETTINGS
from strm_sensor_statsd.testing import UdpListener

PLUGIN = "strm_sensor_statsd"


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("statsd")
    yield url
    drop_broker(url)


def preload(url: str, topic: str, partitions: int, count: int) -> None:
    """``count`` records on ``topic``, spread over its partitions in turn, before the app runs:
    each partition is then fetched in one batch."""
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, partitions))
    log = broker.topic(topic, lambda: partitions)
    for i in range(count):
        log.append(ProducerRecord(topic, i % partitions, b"k", b'{"n": %d}' % i))


def counted(lines: list[str], name: str) -> int:
    """The sum of the counter lines of ``name``."""
    total = 0
    for line in lines:
        metric, _, rest = line.partition(":")
        if metric == name:
            value, kind = rest.split("|")[:2]
            assert kind == "c", line
            total += int(value)
    return total


def make(factory: AppFactory, url: str, port: int, **settings: Any) -> App:
    return factory(
        "statsd-app",
        plugins=[PLUGIN],
        statsd_enabled=True,
        broker=url,
        statsd_host="127.0.0.1",
        statsd_port=port,
        **settings,
    )


async def test_a_batch_of_records_is_one_counter_line_per_partition(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    """120 records on 3 partitions, read in one fetch each: three ``messages_received`` lines
    of 40 and three ``topic.orders.messages_received`` lines, nothing per record."""
    preload(broker_url, "orders", 3, 120)
    seen = 0
    async with UdpListener.bound() as listener:
        app = make(strm_app_factory, broker_url, listener.port, topic_partitions=3)

        @app.agent(app.topic("orders"), name="counter")
        async def consume(stream: Any) -> None:
            nonlocal seen
            async for _ in stream:
                seen += 1

        async with app.running():
            await eventually(lambda: seen == 120, timeout=20)
            await listener.wait_for(lambda got: counted(got, "faust-app.events") == 120)
            lines = await listener.wait_for(
                lambda got: counted(got, "faust-app.messages_received") == 120
            )
    received = [line for line in lines if line.startswith("faust-app.messages_received:")]
    assert received == ["faust-app.messages_received:40|c"] * 3
    per_topic = [line for line in lines if line.startswith("faust-app.topic.orders.")]
    assert per_topic == ["faust-app.topic.orders.messages_received:40|c"] * 3
    assert [line for line in lines if line.startswith("faust-app.events:")] == [
        "faust-app.events:40|c"
    ] * 3
    assert [line for line in lines if line.startswith("faust-app.agent.counter.events:")] == [
        "faust-app.agent.counter.events:40|c"
    ] * 3
    runtimes = [line for line in lines if line.startswith("faust-app.events_runtime:")]
    assert len(runtimes) == 3 and all(line.endswith("|ms") for line in runtimes), runtimes
    # The lines of a batch travel together, and the whole run took a handful of datagrams.
    pair = b"faust-app.messages_received:40|c\nfaust-app.topic.orders.messages_received:40|c"
    assert any(pair in data for data in listener.datagrams)
    assert len(listener.datagrams) <= 10, len(listener.datagrams)


async def test_commits_send_their_latency_and_offsets(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    preload(broker_url, "orders", 2, 10)
    seen = 0
    async with UdpListener.bound() as listener:
        app = make(
            strm_app_factory, broker_url, listener.port, topic_partitions=2, statsd_prefix="shop"
        )

        @app.agent(app.topic("orders"))
        async def consume(stream: Any) -> None:
            nonlocal seen
            async for _ in stream:
                seen += 1

        async with app.running():
            await eventually(lambda: seen == 10, timeout=20)
            lines = await listener.wait_for(
                lambda got: (
                    {
                        "shop.committed_offset.orders.0:5|g",
                        "shop.committed_offset.orders.1:5|g",
                    }
                    <= set(got)
                )
            )
    latencies = [line for line in lines if line.startswith("shop.commit_latency:")]
    assert latencies and all(line.endswith("|ms") for line in latencies), lines


async def test_sends_are_counted_by_topic_per_flush(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    """An agent forwarding 50 records to ``orders.out``: the flushes count 50 records sent,
    by partition and by topic (the dot of the topic name becomes ``_``), with their bytes."""
    preload(broker_url, "orders", 1, 50)
    async with UdpListener.bound() as listener:
        app = make(strm_app_factory, broker_url, listener.port, topic_partitions=1)
        out = app.topic("orders.out")

        @app.agent(app.topic("orders"))
        async def forward(stream: Any) -> None:
            async for value in stream:
                await out.send(value=value)

        async with app.running():
            lines = await listener.wait_for(
                lambda got: counted(got, "faust-app.topic.orders_out.messages_sent") == 50
            )
    assert counted(lines, "faust-app.messages_sent") == 50
    payload = sum(len(b'{"n":%d}' % i) for i in range(50))  # re-encoded compactly
    assert counted(lines, "faust-app.topic.orders_out.bytes_sent") == payload
    assert any(line.startswith("faust-app.send_latency:") for line in lines)


async def test_gauges_report_the_offsets_read(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    preload(broker_url, "orders", 1, 7)
    seen = 0
    async with UdpListener.bound() as listener:
        app = make(
            strm_app_factory, broker_url, listener.port, statsd_gauge_interval=0.05,
            topic_partitions=1,
        )  # fmt: skip

        @app.agent(app.topic("orders"))
        async def consume(stream: Any) -> None:
            nonlocal seen
            async for _ in stream:
                seen += 1

        async with app.running():
            await eventually(lambda: seen == 7, timeout=20)
            await listener.wait_for(
                lambda got: (
                    "faust-app.read_offset.orders.0:7|g" in got
                    and "faust-app.assigned_partitions:1|g" in got
                )
            )


async def test_a_host_that_cannot_be_resolved_stops_the_start(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory(
        "statsd-app",
        plugins=[PLUGIN],
        statsd_enabled=True,
        broker=broker_url,
        statsd_host="no-such-host.invalid",
    )
    with pytest.raises(ConfigurationError, match=r"statsd_host='no-such-host.invalid'.*resolved"):
        await app.start()
    assert not app.is_running


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("statsd_host", "udp://collector:8125", "expected a host name"),
        ("statsd_port", 70000, "65535"),
        ("statsd_rate", 0, "between 0"),
        ("statsd_rate", 1.5, "between 0"),
        ("statsd_prefix", "my app", "letters, digits"),
    ],
)
def test_bad_settings_name_the_setting(
    strm_app_factory: AppFactory, setting: str, value: object, expected: str
) -> None:
    app = strm_app_factory("statsd-app", plugins=[PLUGIN], statsd_enabled=True, **{setting: value})
    with pytest.raises(ConfigurationError) as info:
        app.configure()
    assert setting in str(info.value)
    assert expected in str(info.value)


def test_settings_come_from_the_environment(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        "statsd-app",
        plugins=[PLUGIN],
        statsd_enabled=True,
        environ={"STATSD_HOST": "10.0.0.9", "STATSD_PORT": "9125", "STATSD_RATE": "0.5"},
    )
    conf = app.configure().conf
    assert (conf.statsd_host, conf.statsd_port, conf.statsd_rate) == ("10.0.0.9", 9125, 0.5)
    assert conf.statsd_prefix == "faust-app"


async def test_lines_are_packed_into_datagrams_below_the_packet_size() -> None:
    async with UdpListener.bound() as listener:
        client = StatsdClient("127.0.0.1", listener.port, prefix="p")
        await client.open()
        try:
            lines = [client.gauge(f"metric_{i:04d}", i) for i in range(300)]
            client.send(lines)
            await listener.wait_for(lambda got: len(got) == 300)
        finally:
            client.close()
    assert listener.lines == lines
    assert all(len(data) <= MAX_PACKET for data in listener.datagrams)
    assert 1 < len(listener.datagrams) < 10  # 300 lines: past FLUSH_LINES, sent at once


async def test_sampling_marks_the_rate_and_keeps_gauges() -> None:
    client = StatsdClient("127.0.0.1", 8125, prefix="p", rate=0.25)
    counts = [client.count("c", 3) for _ in range(400)]
    kept = [line for line in counts if line is not None]
    assert set(kept) == {"p.c:3|c|@0.25"}
    assert 40 < len(kept) < 160  # a quarter of 400, with a wide margin
    assert client.gauge("g", 1.5) == "p.g:1.5|g"


def test_installed_but_not_enabled_it_sends_nothing(strm_app_factory: AppFactory) -> None:
    """Installing the plugin attaches no sending sensor: ``statsd_enabled`` is off."""
    sensors = strm_app_factory("statsd-app", plugins=[PLUGIN]).configure().sensors
    assert not any(isinstance(sensor, StatsdSensor) for sensor in sensors.sensors)
    assert {type(sensor).__name__ for sensor in sensors.sensors} == {"Monitor", "Sensor"}


def test_the_readme_lists_every_metric_and_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for _, _, template in METRICS.values():
        assert f"| `{template}` |" in readme, template
    for spec in SETTINGS:
        assert f"| `{spec.name}` | `{spec.env}` |" in readme, spec.name


async def test_a_daemon_that_does_not_listen_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nobody on the port: the ICMP errors UDP reports are one WARNING, never an exception."""
    async with UdpListener.bound() as listener:
        port = listener.port  # free once the listener is closed
    client = StatsdClient("127.0.0.1", port, prefix="p")
    await client.open()
    try:
        with caplog.at_level(logging.WARNING, logger="strm_sensor_statsd.client"):
            for i in range(20):
                client.send([client.count("c", i)])
                await asyncio.sleep(0)  # the loop reads the socket's errors between sends
            await eventually(lambda: bool(caplog.records), timeout=5)
            for _ in range(20):
                client.send([client.count("c")])
                await asyncio.sleep(0)
    finally:
        client.close()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert f"statsd_host='127.0.0.1', statsd_port={port}" in warnings[0]
    assert "does not receive" in warnings[0]


async def test_many_notifications_in_a_moment_share_datagrams() -> None:
    """A sensor notified per event (an agent with ``concurrency > 1``) still sends a datagram
    per 0.1 s and per 1,432 bytes, not one per notification."""
    async with UdpListener.bound() as listener:
        client = StatsdClient("127.0.0.1", listener.port, prefix="p")
        await client.open()
        try:
            for _ in range(150):
                client.send([client.count("events", 1), client.timing("events_runtime", 0.5)])
            assert listener.datagrams == []  # buffered until the flush interval
            lines = await listener.wait_for(lambda got: len(got) == 300)
        finally:
            client.close()
    assert lines == ["p.events:1|c", "p.events_runtime:0.5|ms"] * 150
    assert len(listener.datagrams) <= 300 * len("p.events_runtime:0.5|ms\n") // MAX_PACKET + 2
