"""The Monitor on real Kafka: events in equal the events produced, and the lag of every
partition (the consumer's highwater mark against what was processed) reaches zero."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from itest_helpers import create_topic
from strm.app import App
from strm.kernel.spi import TP
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


async def test_lag_per_partition_reaches_zero_and_events_in_match_events_produced(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    name = unique("monitored")
    await create_topic(kafka_bootstrap, name, 3)
    app = kafka_app(topic_partitions=3)
    source = app.topic(name, value_type=int, partitions=3)
    produced = {TP(name, p): 0 for p in range(3)}

    @app.agent(source)
    async def consume(stream: Any) -> None:
        async for _ in stream:
            pass

    def lags() -> dict[TP, int | None]:
        return {tp: g.lag for tp, g in app.monitor.snapshot().gauges.partitions.items()}

    async with app.running():
        for i in range(150):
            partition = i % 3
            await source.send(key=str(i).encode(), value=i, partition=partition)
            produced[TP(name, partition)] += 1
        await eventually(lambda: app.monitor.events_total == 150, timeout=60)
        await eventually(lambda: lags() == dict.fromkeys(produced, 0), timeout=30)
        snap = app.monitor.snapshot()
    assert snap.messages_received_total == 150
    assert dict(snap.messages_received_by_tp) == produced
    assert snap.agents[consume.name].events_total == 150
    highwaters = {tp: g.highwater for tp, g in snap.gauges.partitions.items()}
    assert highwaters == produced  # a fresh topic: offsets start at 0
