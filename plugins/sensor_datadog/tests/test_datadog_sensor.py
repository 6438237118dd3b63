"""The datadog sensor in a running app on ``memory://``, heard by a UDP socket on 127.0.0.1:
DogStatsD lines with the topic, partition, agent and table as tags."""

from __future__ import annotations

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
from strm_sensor_datadog.settings import SETTINGS
from strm_sensor_statsd.naming import METRICS
from strm_sensor_statsd.testing import UdpListener

PLUGIN = "strm_sensor_datadog"


@pytest.fixture
def broker_url() -> Iterator[str]:
    url = unique_url("datadog")
    yield url
    drop_broker(url)


def preload(url: str, topic: str, partitions: int, count: int) -> None:
    broker = get_broker(url)
    broker.create_topic(TopicSpec(topic, partitions))
    log = broker.topic(topic, lambda: partitions)
    for i in range(count):
        log.append(ProducerRecord(topic, i % partitions, b"k", b'{"n": %d}' % i))


def make(factory: AppFactory, url: str, port: int, **settings: Any) -> App:
    return factory(
        "dd-app",
        plugins=[PLUGIN],
        datadog_enabled=True,
        broker=url,
        datadog_host="127.0.0.1",
        datadog_port=port,
        **settings,
    )


async def test_batches_are_tagged_with_topic_and_partition(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    preload(broker_url, "orders", 2, 30)
    seen = 0
    async with UdpListener.bound() as listener:
        app = make(
            strm_app_factory,
            broker_url,
            listener.port,
            topic_partitions=2,
            datadog_tags={"env": "test", "team": "orders"},
        )

        @app.agent(app.topic("orders"))
        async def consume(stream: Any) -> None:
            nonlocal seen
            async for _ in stream:
                seen += 1

        async with app.running():
            await eventually(lambda: seen == 30, timeout=20)
            expected = {
                "faust-app.messages_received:15|c|#env:test,team:orders,topic:orders,partition:0",
                "faust-app.messages_received:15|c|#env:test,team:orders,topic:orders,partition:1",
                "faust-app.committed_offset:15|g|#env:test,team:orders,topic:orders,partition:0",
                "faust-app.committed_offset:15|g|#env:test,team:orders,topic:orders,partition:1",
            }
            lines = await listener.wait_for(lambda got: expected <= set(got))
    received = [line for line in lines if line.startswith("faust-app.messages_received:")]
    assert len(received) == 2, received
    per_topic = [line for line in lines if line.startswith("faust-app.topic_messages_received:")]
    assert (
        sorted(per_topic)
        == ["faust-app.topic_messages_received:15|c|#env:test,team:orders,topic:orders"] * 2
    )


async def test_tables_agents_and_partitions_are_tags(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    """An agent counting into a table: its events are tagged with the agent, the checkpoint's
    changelog records with the table and the changelog partition, the table's keys (a gauge)
    with the table, and the offsets read with the partition."""
    preload(broker_url, "clicks", 1, 12)
    seen = 0
    async with UdpListener.bound() as listener:
        app = make(
            strm_app_factory, broker_url, listener.port, topic_partitions=1,
            datadog_gauge_interval=0.05,
        )  # fmt: skip
        counts = app.Table("counts", default=int, partitions=1)

        @app.agent(app.topic("clicks"), name="count")
        async def count(stream: Any) -> None:
            nonlocal seen
            async for _ in stream:
                counts["clicks"] += 1
                seen += 1

        async with app.running():
            await eventually(lambda: seen == 12, timeout=20)
            lines = await listener.wait_for(
                lambda got: (
                    "faust-app.table_keys:1|g|#table:counts" in got
                    and "faust-app.read_offset:12|g|#topic:clicks,partition:0" in got
                    and any(line.startswith("faust-app.changelog_records:") for line in got)
                )
            )
    changelog = [line for line in lines if line.startswith("faust-app.changelog_records:")]
    assert all(
        line.endswith("|c|#table:counts,topic:dd-app-counts-changelog,partition:0")
        for line in changelog
    ), changelog
    events = [line for line in lines if line.startswith("faust-app.events:")]
    assert events == ["faust-app.events:12|c|#agent:count,topic:clicks,partition:0"]
    assert "faust-app.agent_events:12|c|#agent:count" in lines


async def test_a_host_that_cannot_be_resolved_stops_the_start(
    strm_app_factory: AppFactory, broker_url: str
) -> None:
    app = strm_app_factory(
        "dd-app",
        plugins=[PLUGIN],
        datadog_enabled=True,
        broker=broker_url,
        datadog_host="no-such-agent.invalid",
    )
    with pytest.raises(ConfigurationError, match=r"datadog_host='no-such-agent.invalid'"):
        await app.start()


def test_tags_from_the_environment(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        "dd-app",
        plugins=[PLUGIN],
        datadog_enabled=True,
        environ={"DATADOG_TAGS": "env:prod, service:shop", "DD_AGENT_HOST": "10.1.2.3"},
    )
    conf = app.configure().conf
    assert conf.datadog_tags == ("env:prod", "service:shop")
    assert conf.datadog_host == "10.1.2.3"


@pytest.mark.parametrize("value", [["bad tag"], "a|b", 3])
def test_bad_tags_name_the_setting(strm_app_factory: AppFactory, value: object) -> None:
    app = strm_app_factory("dd-app", plugins=[PLUGIN], datadog_enabled=True, datadog_tags=value)
    with pytest.raises(ConfigurationError, match="datadog_tags"):
        app.configure()


def test_the_readme_lists_every_metric_and_setting() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for metric in METRICS:
        assert f"| `{metric}` |" in readme, metric
    for spec in SETTINGS:
        assert f"| `{spec.name}` | `{spec.env}` |" in readme, spec.name
