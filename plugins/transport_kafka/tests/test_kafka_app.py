"""strm apps on a real Kafka broker: agents, keys, headers, JSON values, commits, and two
workers of one group sharing the partitions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from strm.app import App
from strm.kernel.spi import TP, Message
from strm.testing import eventually
from strm.testing.contracts.transport import RecordingListener
from strm_transport_kafka import KafkaTransport

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

Seen = list[tuple[str, Any, dict[str, bytes], int]]


def orders_app(
    kafka_app: Callable[..., App], app_id: str, topic_name: str, **settings: Any
) -> tuple[App, Any, Seen]:
    """An app whose agent records (key, value, headers, partition) of every order."""
    app = kafka_app(app_id, **settings)
    orders = app.topic(topic_name, key_type=str, partitions=3)
    seen: Seen = []

    @app.agent(orders)
    async def collect(stream: Any) -> None:
        async for event in stream.events():
            seen.append((event.key, event.value, dict(event.headers), event.message.partition))

    return app, orders, seen


async def read_all(transport: KafkaTransport, topic: str, count: int) -> list[Message]:
    """The first ``count`` records of ``topic``, read by a consumer of a group of its own."""
    consumer = transport.create_consumer(group_id=f"{topic}-reader", client_id="reader")
    consumer.subscribe([topic], RecordingListener("reader", []))
    await consumer.start()
    messages: list[Message] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while len(messages) < count and loop.time() < deadline:
            for batch in (await consumer.getmany(0.2)).values():
                messages.extend(batch)
    finally:
        await consumer.stop()
    return messages


async def test_an_agent_reads_kafka_and_its_commits_are_the_groups(
    kafka_app: Callable[..., App],
    kafka_transport: Callable[..., KafkaTransport],
    unique: Callable[[str], str],
) -> None:
    app_id, topic_name = unique("orders-app"), unique("orders")
    app, orders, seen = orders_app(kafka_app, app_id, topic_name)
    async with app.running():
        for i in range(12):
            await orders.send(key=f"k{i}", value={"n": i}, headers={"trace": f"t{i}"})
        await eventually(lambda: len(seen) == 12, timeout=20)
        await app.conductor.checkpoint()
    assert app.crash_error is None
    assert sorted(value["n"] for _, value, _, _ in seen) == list(range(12))
    for key, value, headers, _ in seen:
        assert key == f"k{value['n']}"
        assert headers == {"trace": f"t{value['n']}".encode()}
    partitions = {partition for _, _, _, partition in seen}
    assert len(partitions) > 1, "12 keys all landed on one partition"

    # On the wire: the raw key, a JSON value and the header, as any Kafka client sees them.
    transport = kafka_transport()
    raw = await read_all(transport, topic_name, 12)
    assert sorted(json.loads(m.value or b"")["n"] for m in raw) == list(range(12))
    by_key = {m.key: m for m in raw}
    assert json.loads(by_key[b"k3"].value or b"") == {"n": 3}
    assert list(by_key[b"k3"].headers) == [("trace", b"t3")]

    # The group's committed offsets, read by another member-to-be of the same group.
    checker = transport.create_consumer(group_id=app.conf.id, client_id="checker")
    await checker.start()
    try:
        committed = {p: await checker.committed(TP(topic_name, p)) for p in range(3)}
    finally:
        await checker.stop()
    ends = {m.partition: m.offset + 1 for m in sorted(raw, key=lambda m: m.offset)}
    assert committed == {p: ends.get(p) for p in range(3)}

    # The same app again starts after what was committed: only the new record arrives.
    again, orders_again, seen_again = orders_app(kafka_app, app_id, topic_name)
    async with again.running():
        await orders_again.send(key="late", value={"n": 99})
        await eventually(lambda: len(seen_again) >= 1, timeout=20)
        await asyncio.sleep(0.5)
    assert [value for _, value, _, _ in seen_again] == [{"n": 99}]


async def test_two_workers_of_one_group_split_the_partitions(
    kafka_app: Callable[..., App], unique: Callable[[str], str], tmp_path: Path
) -> None:
    app_id, topic_name = unique("split-app"), unique("split")
    everything = {TP(topic_name, p) for p in range(4)}
    workers: list[App] = []
    seen: list[list[tuple[int, int]]] = [[], []]
    for index in range(2):
        app = kafka_app(app_id, datadir=str(tmp_path / f"worker-{index}"))
        topic = app.topic(topic_name, key_type=str, value_type=int, partitions=4)

        def collector(mine: list[tuple[int, int]]) -> Any:
            async def collect(stream: Any) -> None:
                async for event in stream.events():
                    mine.append((event.message.partition, event.value))

            return collect

        app.agent(topic, name="collect")(collector(seen[index]))
        workers.append(app)
    first, second = workers

    def held(app: App) -> set[TP]:
        return {tp for tp in app.conductor.assignment if tp.topic == topic_name}

    async with first.running():
        await eventually(lambda: held(first) == everything, timeout=20)
        async with second.running():
            await eventually(
                lambda: (
                    bool(held(first))
                    and bool(held(second))
                    and held(first) | held(second) == everything
                    and not held(first) & held(second)
                ),
                timeout=20,
            )
            sender = first.topic(topic_name, key_type=str, value_type=int)
            for i in range(40):
                await sender.send(key=f"key-{i}", value=i)
            await eventually(lambda: len(seen[0]) + len(seen[1]) >= 40, timeout=20)
            await asyncio.sleep(0.3)
            split = (held(first), held(second))
        assert first.crash_error is None and second.crash_error is None
        # Once the second worker leaves, the first one gets every partition back.
        await eventually(lambda: held(first) == everything, timeout=20)

    values = sorted(value for mine in seen for _, value in mine)
    assert values == list(range(40)), "every record exactly once"
    for index, mine in enumerate(seen):
        assert mine, f"worker {index} processed nothing"
        assert {TP(topic_name, p) for p, _ in mine} <= split[index]


async def test_named_and_pattern_topics_in_one_app(
    kafka_app: Callable[..., App], unique: Callable[[str], str]
) -> None:
    """aiokafka takes names or a pattern: the names join the pattern as exact alternatives."""
    app = kafka_app()
    named = app.topic(unique("named"), value_type=int, partitions=2)
    prefix = unique("events")
    matched = app.topic(pattern=f"{prefix}-.*", value_type=int)
    got: dict[str, list[int]] = {"named": [], "pattern": []}

    @app.agent(named)
    async def by_name(stream: Any) -> None:
        async for value in stream:
            got["named"].append(value)

    @app.agent(matched)
    async def by_pattern(stream: Any) -> None:
        async for value in stream:
            got["pattern"].append(value)

    async with app.running():
        later = app.topic(f"{prefix}-later", value_type=int, partitions=1)
        await later.declare()
        for i in range(3):
            await named.send(value=i)
            await later.send(value=10 + i)
        await eventually(lambda: len(got["named"]) == 3 and len(got["pattern"]) == 3, timeout=20)
    assert sorted(got["named"]) == [0, 1, 2]
    assert got["pattern"] == [10, 11, 12]
    assert app.crash_error is None
