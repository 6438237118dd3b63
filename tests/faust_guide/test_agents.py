"""Faust's "Agents" chapter, written as a Faust user would: ``import strm as faust`` is the
only change from a Faust application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import strm as faust
from strm.builtins.memory_transport import drop_broker, unique_url
from strm.testing import eventually


@pytest.fixture
def app(tmp_path: Path) -> Iterator[faust.App]:
    url = unique_url("guide-agents")
    yield faust.App("guide-agents", broker=url, store="memory://", datadir=str(tmp_path))
    drop_broker(url)


class Order(faust.Record, serializer="json"):
    account_id: str
    amount: float


async def test_an_agent_processes_the_stream_of_its_topic(app: faust.App) -> None:
    orders_topic = app.topic("guide-orders", value_type=Order)
    totals: dict[str, float] = {}

    @app.agent(orders_topic)
    async def process_order(orders: Any) -> None:
        async for order in orders:
            totals[order.account_id] = totals.get(order.account_id, 0.0) + order.amount

    async with app.running():
        await orders_topic.send(value=Order(account_id="a1", amount=10.0))
        await orders_topic.send(value=Order(account_id="a1", amount=5.5))
        await eventually(lambda: totals == {"a1": 15.5})


async def test_an_agent_without_a_topic_is_sent_to_directly(app: faust.App) -> None:
    seen: list[Any] = []

    @app.agent()
    async def myagent(stream: Any) -> None:
        async for event in stream:
            seen.append(event)

    async with app.running():
        await myagent.send(value="hello")
        await myagent.cast(value="world")
        await eventually(lambda: sorted(seen) == ["hello", "world"])


async def test_concurrency_runs_several_instances_over_one_stream(app: faust.App) -> None:
    seen: list[int] = []

    @app.agent(app.topic("guide-work", value_type=int), concurrency=3)
    async def worker(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        for i in range(9):
            await worker.send(value=i)
        await eventually(lambda: len(seen) == 9)
    assert sorted(seen) == list(range(9))


async def test_ask_waits_for_the_reply_the_agent_yields(app: faust.App) -> None:
    @app.agent()
    async def adding(stream: Any) -> AsyncIterator[int]:
        async for value in stream:
            yield value + 2

    async with app.running():
        assert await adding.ask(value=2) == 4


async def test_map_and_join_ask_for_many_values(app: faust.App) -> None:
    @app.agent()
    async def double(stream: Any) -> AsyncIterator[int]:
        async for value in stream:
            yield value * 2

    async with app.running():
        assert await double.join([10, 20, 30]) == [20, 40, 60]
        assert sorted([r async for r in double.map([1, 2, 3])]) == [2, 4, 6]
        assert await double.kvjoin([("a", 4), ("b", 5)]) == [8, 10]
        assert sorted([r async for r in double.kvmap({"c": 6, "d": 7})]) == [12, 14]


async def test_sinks_receive_what_the_agent_yields(app: faust.App) -> None:
    alerts: list[str] = []
    forwarded: list[str] = []
    sink_topic = app.topic("guide-alerts", value_type=str)

    @app.agent(sink_topic)
    async def alert_reader(stream: Any) -> None:
        async for value in stream:
            forwarded.append(value)

    async def notify(value: str) -> None:
        alerts.append(value)

    @app.agent(sink=[notify, alert_reader])
    async def watcher(stream: Any) -> AsyncIterator[str]:
        async for value in stream:
            yield f"alert: {value}"

    async with app.running():
        await watcher.send(value="disk full")
        await eventually(lambda: alerts == ["alert: disk full"] == forwarded)


async def test_an_agent_can_take_batches_of_events(app: faust.App) -> None:
    batches: list[list[int]] = []

    @app.agent(app.topic("guide-batched", value_type=int))
    async def batcher(stream: Any) -> None:
        async for values in stream.take(100, within=0.2):
            batches.append(values)

    async with app.running():
        for i in range(5):
            await batcher.send(value=i)
        await eventually(lambda: sum(map(len, batches)) == 5)
    assert sorted(v for batch in batches for v in batch) == list(range(5))


async def test_events_give_access_to_the_message_and_can_be_forwarded(
    app: faust.App,
) -> None:
    copies: list[Any] = []
    offsets: list[int] = []
    out = app.topic("guide-copies", value_type=str)

    @app.agent(out)
    async def copies_reader(stream: Any) -> None:
        async for value in stream:
            copies.append(value)

    @app.agent(app.topic("guide-source", value_type=str))
    async def source(stream: Any) -> None:
        async for event in stream.events():
            offsets.append(event.message.offset)
            assert faust.current_event() is event
            await event.forward(out)

    async with app.running():
        await source.send(value="x")
        await eventually(lambda: copies == ["x"])
    assert offsets == [0]


async def test_agent_info_describes_it(app: faust.App) -> None:
    @app.agent(name="described", concurrency=2)
    async def described(stream: Any) -> None:
        """Explains itself."""
        async for _ in stream:
            pass

    info = described.info()
    assert (info["name"], info["concurrency"], info["help"]) == ("described", 2, "Explains itself.")
