"""The sensor in one process on ``memory://``: ``/metrics`` on the app's web server counts what
was sent and read, exactly, and shows the pulled gauges."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrape import Scrape, scrape
from strm.app import App
from strm.builtins.memory_transport import drop_broker, unique_url
from strm_sensor_prometheus import PrometheusSensor

EVENTS = 300
PARTITIONS = 4
#: Enough keys that every partition gets some.
KEYS = 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def poll(url: str, condition: Callable[[Scrape], bool], timeout: float) -> Scrape:
    """As scrape.poll, without blocking the app's loop between scrapes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await asyncio.to_thread(scrape, url)
        if condition(found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:g} s; last scrape:\n{found.text}")
        await asyncio.sleep(0.05)


@pytest.fixture
def app(strm_app_factory: Callable[..., App]) -> Any:
    broker = unique_url("prom")
    app = strm_app_factory(
        "prom-memory",
        plugins=["strm_web_aiohttp", "strm_sensor_prometheus"],
        broker=broker,
        web_bind="127.0.0.1",
        web_port=free_port(),
    )
    yield app
    drop_broker(broker)


async def test_metrics_count_every_event_and_lag_reaches_zero(app: App) -> None:
    topic = app.topic("orders", partitions=PARTITIONS, key_type=str, value_type=int)
    table = app.Table("totals", default=int, partitions=PARTITIONS)

    @app.agent(topic)
    async def totals(stream: Any) -> None:
        async for key, value in stream.items():
            table[key] += value

    async with app.running():
        (address,) = app.web.addresses
        url = address + "/metrics"
        for i in range(EVENTS):
            await topic.send(key=f"k{i % KEYS}", value=1)

        def settled(s: Scrape) -> bool:
            lag = s.series("strm_consumer_lag")
            received = s.total("strm_messages_received_total", topic="orders")
            sent = s.total("strm_messages_sent_total", topic="orders")  # counted at a flush
            settled = len(lag) == PARTITIONS and not any(lag.values())
            # Commits follow processing on their own clock (broker_commit_interval), so a
            # scrape may see every event read before the first commit has been timed.
            committed = s.total("strm_commit_duration_seconds_count") >= 1
            return received == EVENTS and sent == EVENTS and settled and committed

        found = await poll(url, settled, timeout=20)
        assert found.content_type.startswith("text/plain")
        per_partition = found.series("strm_messages_received_total")
        assert {dict(ls)["partition"] for ls in per_partition} == {"0", "1", "2", "3"}
        assert found.total("strm_agent_events_total", topic="orders") == EVENTS
        assert found.total("strm_assigned_partitions") >= PARTITIONS
        keys = await poll(url, lambda s: s.total("strm_table_keys", table="totals") == KEYS, 20)
        assert keys.total("strm_table_recovered", table="totals") == 1


def test_the_sensor_is_attached_to_every_app(app: App) -> None:
    app.configure()
    assert any(isinstance(s, PrometheusSensor) for s in app.sensors.sensors)


def test_the_readme_lists_every_metric_and_no_other(app: App) -> None:
    """The README's two tables name exactly the metrics the sensor exposes (the process and
    platform collectors' are prometheus_client's, described there in a sentence)."""
    app.configure()
    (sensor,) = [s for s in app.sensors.sensors if isinstance(s, PrometheusSensor)]
    assert sensor.registry is not None
    exposed = {
        # prometheus_client names a counter's family without the _total its sample carries
        f"{family.name}_total" if family.type == "counter" else family.name
        for family in sensor.registry.collect()
        if family.name.startswith("strm_")
    }
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    listed = set(re.findall(r"^\| `(strm_\w+)` \|", readme, re.MULTILINE))
    assert listed == exposed
