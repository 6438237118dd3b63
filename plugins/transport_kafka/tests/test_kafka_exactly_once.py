"""``processing_guarantee='exactly_once'`` on a real broker: an app's sends and source offsets
commit in one transaction; read_committed consumers never see what a dead worker left open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from strm.app import App
from strm.testing import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def read_committed(
    bootstrap: str, topic: str, count: int, timeout: float = 20
) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(values) < count and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                values.extend(m.value for m in messages)
        await asyncio.sleep(0.5)  # anything beyond ``count`` would show up now
        for messages in (await consumer.getmany(timeout_ms=200)).values():
            values.extend(m.value for m in messages)
    finally:
        await consumer.stop()
    return values


async def test_sends_and_offsets_commit_together_on_kafka(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    app_id, source_name, out_name = unique("eos-app"), unique("eos-in"), unique("eos-out")
    app = kafka_app(
        app_id, processing_guarantee="exactly_once", broker_commit_interval=0.3, topic_partitions=1
    )
    feeder = kafka_app(unique("feeder"), topic_partitions=1)
    source = app.topic(source_name, value_type=int, partitions=1)
    out = app.topic(out_name, value_type=int, partitions=1)
    done: list[int] = []

    @app.agent(source)
    async def double(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value * 2)
            done.append(value)

    async with feeder.running(), app.running():
        await out.declare()
        for i in range(5):
            await feeder.topic(source_name, value_type=int).send(value=i)
        await eventually(lambda: len(done) == 5, timeout=30)
        await app.conductor.checkpoint()
        values = await read_committed(kafka_bootstrap, out_name, 5)
    assert sorted(values) == [b"0", b"2", b"4", b"6", b"8"]
