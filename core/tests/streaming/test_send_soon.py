"""``topic.send_soon(...)`` on the memory transport: sending from synchronous code, in order,
encoded at the call, durable before the sending event's offset commits; and the settings
checks of ``producer_threaded``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.errors import CodecError, ConfigurationError, StrmError
from strm.kernel.spi import TP, RecordMetadata
from strm.testing import eventually


def records(broker_url: str, topic: str) -> list[Any]:
    broker = get_broker(broker_url)
    if topic not in broker.topics:
        return []
    return [m for log in broker.topics[topic].logs for m in log]


async def test_send_soon_from_synchronous_code_arrives_in_order(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1)
    out = app.topic("soon-out", key_type=str, value_type=int)
    futures: list[asyncio.Future[RecordMetadata]] = []

    def log_value(n: int) -> None:  # plain synchronous code, as in a callback
        futures.append(out.send_soon(key="k", value=n, headers={"h": "v"}))

    async with app.running():
        for n in range(50):
            log_value(n)
        landed = await asyncio.gather(*futures)
        assert [m.offset for m in landed] == list(range(50))
        assert {(m.topic, m.partition) for m in landed} == {("soon-out", 0)}
    stored = records(broker_url, "soon-out")
    assert [m.value for m in stored] == [str(n).encode() for n in range(50)]
    assert stored[0].key == b"k"
    assert list(stored[0].headers) == [("h", b"v")]


async def test_send_soon_encodes_at_the_call(make_app: Callable[..., App]) -> None:
    app = make_app()
    raw = app.topic("soon-raw", value_serializer="raw")
    async with app.running():
        with pytest.raises(CodecError):
            raw.send_soon(value={"not": "bytes"})
        assert len(app.producers.soon) == 0


async def test_the_checkpoint_waits_for_send_soon_records_of_processed_events(
    make_app: Callable[..., App], broker_url: str
) -> None:
    """An event's offset is committed only once what it sent with send_soon is on the broker:
    nothing is awaited by the agent, the checkpoint hands the records over."""
    app = make_app("soon-cp", topic_partitions=1, broker_commit_interval=3600.0)
    source = app.topic("soon-in", value_type=int)
    out = app.topic("soon-copies", value_type=int)
    seen: list[int] = []

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            out.send_soon(value=value)
            seen.append(value)

    async with app.running():
        for i in range(20):
            await source.send(value=i)
        await eventually(lambda: len(seen) == 20)
        await app.conductor.checkpoint()
        assert [m.value for m in records(broker_url, "soon-copies")] == [
            str(i).encode() for i in range(20)
        ]
        assert get_broker(broker_url).group("soon-cp").committed[TP("soon-in", 0)] == 20


async def test_send_soon_records_wait_for_the_commit_with_publish_on_commit(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=1, stream_publish_on_commit=True, broker_commit_interval=3600.0)
    source = app.topic("held-in", value_type=int)
    out = app.topic("held-out", value_type=int)
    seen: list[int] = []

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            out.send_soon(value=value)
            seen.append(value)

    async with app.running():
        for i in range(3):
            await source.send(value=i)
        await eventually(lambda: len(seen) == 3)
        await app.producers.soon.flush()
        assert records(broker_url, "held-out") == []  # handed over, held for the commit
        await app.conductor.checkpoint()
        assert [m.value for m in records(broker_url, "held-out")] == [b"0", b"1", b"2"]


async def test_a_record_that_cannot_be_handed_over_fails_its_future_and_the_checkpoint(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=2)
    out = app.topic("soon-bad", value_type=int, partitions=2)
    async with app.running():
        await out.declare()
        bad = out.send_soon(value=1, partition=7)
        good = out.send_soon(value=2, partition=1)
        with pytest.raises(StrmError, match="7"):
            await bad
        assert (await good).partition == 1
        with pytest.raises(StrmError, match="7"):
            await app.conductor.checkpoint()
        await app.conductor.checkpoint()  # reported once


async def test_eager_partitioning_picks_the_partition_at_the_call(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=4)
    source = app.topic("eager-in", key_type=str, value_type=str, partitions=4)
    out = app.topic("eager-out", key_type=str, value_type=str, partitions=4)
    partitions: dict[str, int] = {}

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for key, value in stream.items():
            future = out.send_soon(key=key, value=value, eager_partitioning=True)
            partitions[key] = (await future).partition

    async with app.running():
        await out.declare()
        # The count known at the call is the one used: pretend it is 2 (the topic has 4).
        app.conductor.partition_counts["eager-out"] = 2
        for word in "abcdefghij":
            await source.send(key=word, value=word)
        await eventually(lambda: len(partitions) == 10)
    expected = {w: app.partitioner(w.encode(), [0, 1], [0, 1]) for w in "abcdefghij"}
    late = {w: app.partitioner(w.encode(), [0, 1, 2, 3], [0, 1, 2, 3]) for w in "abcdefghij"}
    assert expected != late
    assert partitions == expected


async def test_a_channel_delivers_send_soon_at_once(make_app: Callable[..., App]) -> None:
    app = make_app()
    channel = app.channel(value_type=int)
    got: list[int] = []

    @app.agent(channel)
    async def read(stream: Any) -> None:
        async for value in stream:
            got.append(value)

    async with app.running():
        future = channel.send_soon(value=5)
        assert future.done()
        await eventually(lambda: got == [5])


def test_producer_threaded_needs_a_transport_that_can_run_a_producer_in_a_thread(
    make_app: Callable[..., App],
) -> None:
    app = make_app(producer_threaded=True)
    with pytest.raises(ConfigurationError) as raised:
        app.configure()
    message = str(raised.value)
    assert "'producer_threaded': bad value True" in message
    assert "cannot run a producer on another thread" in message


def test_producer_threaded_and_exactly_once_exclude_each_other(
    make_app: Callable[..., App],
) -> None:
    app = make_app(producer_threaded=True, processing_guarantee="exactly_once")
    with pytest.raises(ConfigurationError, match=r"'producer_threaded'.*transaction"):
        app.configure()
