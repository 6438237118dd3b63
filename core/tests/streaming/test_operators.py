"""Stream operators, over iterables, channels and topics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.events import Event, current_event
from strm.kernel.spi import TP
from strm.testing import eventually


async def test_iterable_stream_values_items_events_enumerate(make_app: Callable[..., App]) -> None:
    app = make_app()
    assert [v async for v in app.stream([1, 2, 3])] == [1, 2, 3]
    assert [kv async for kv in app.stream([1, 2]).items()] == [(None, 1), (None, 2)]
    events = [e async for e in app.stream(["a"]).events()]
    assert isinstance(events[0], Event) and events[0].value == "a"
    assert [p async for p in app.stream(["x", "y"]).enumerate(start=1)] == [(1, "x"), (2, "y")]

    async def agen() -> Any:
        for i in range(3):
            yield i

    assert [v async for v in app.stream(agen())] == [0, 1, 2]


async def test_filter_sync_and_async(make_app: Callable[..., App]) -> None:
    app = make_app()
    evens = [v async for v in app.stream(range(10)).filter(lambda v: v % 2 == 0)]
    assert evens == [0, 2, 4, 6, 8]

    async def big(v: int) -> bool:
        return v > 7

    assert [v async for v in app.stream(range(10)).filter(big)] == [8, 9]


async def test_take_groups_by_count_and_flushes_the_rest(make_app: Callable[..., App]) -> None:
    app = make_app()
    batches = [b async for b in app.stream(range(7)).take(3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="at least 1"):
        async for _ in app.stream([1]).take(0):
            pass


async def test_take_within_flushes_a_partial_batch_on_time(make_app: Callable[..., App]) -> None:
    app = make_app()
    channel = app.channel()
    stream = app.stream(channel)
    got: list[list[int]] = []

    async def reader() -> None:
        async for batch in stream.take(100, within=0.1):
            got.append(batch)
            if sum(map(len, got)) >= 5:
                return

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    for i in range(3):
        await channel.send(value=i)
    await eventually(lambda: got == [[0, 1, 2]], timeout=2)
    for i in range(3, 5):
        await channel.send(value=i)
    await asyncio.wait_for(task, 2)
    assert got == [[0, 1, 2], [3, 4]]


async def test_take_acknowledges_a_batch_only_after_it_was_processed(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("batched", value_type=int)
    batches: list[list[int]] = []
    release = asyncio.Event()

    @app.agent(topic)
    async def batcher(stream: Any) -> None:
        async for batch in stream.take(5, within=0.05):
            batches.append(batch)
            await release.wait()
            release.clear()

    async with app.running():
        for i in range(10):
            await topic.send(value=i)
        await eventually(lambda: len(batches) == 1)
        await app.conductor.checkpoint()
        assert TP("batched", 0) not in app.conductor.committed  # first batch still in hand
        release.set()
        await eventually(lambda: len(batches) == 2)
        await app.conductor.checkpoint()
        assert app.conductor.committed[TP("batched", 0)] == 5
        release.set()
        await eventually(lambda: app.conductor.committable() == {TP("batched", 0): 10})


async def test_batches_groups_values_by_count_and_by_time(make_app: Callable[..., App]) -> None:
    app = make_app()
    assert [b async for b in app.stream(range(5)).batches(max=2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match=r"batches\(max=0\): must be at least 1"):
        app.stream([1]).batches(max=0)
    channel = app.channel()
    stream = app.stream(channel)
    got: list[list[int]] = []

    async def reader() -> None:
        async for batch in stream.batches(max=1000, within=0.05):
            got.append(batch)
            return

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    for i in range(3):
        await channel.send(value=i)
    await asyncio.wait_for(task, 2)
    assert got == [[0, 1, 2]]


async def test_batches_acknowledge_a_batch_after_the_loop_body_and_survive_a_crash(
    make_app: Callable[..., App],
) -> None:
    """The crash-safety rule of ``take``: a batch's offsets commit only once the next batch is
    asked for; an agent that crashes on a batch leaves them uncommitted."""
    app = make_app(topic_partitions=1, agent_supervisor="crashing")
    topic = app.topic("bulk", value_type=int)
    batches: list[list[int]] = []
    release = asyncio.Event()

    @app.agent(topic)
    async def bulk(stream: Any) -> None:
        async for batch in stream.batches(max=4, within=0.05):
            batches.append(batch)
            await release.wait()
            release.clear()
            if batch[0] == 4:
                raise RuntimeError("the bulk insert failed")

    with pytest.raises(RuntimeError, match="the bulk insert failed"):
        async with app.running():
            for i in range(8):
                await topic.send(value=i)
            await eventually(lambda: len(batches) == 1)
            await app.conductor.checkpoint()
            assert TP("bulk", 0) not in app.conductor.committed  # the first batch is in hand
            release.set()
            await eventually(lambda: len(batches) == 2)
            await app.conductor.checkpoint()
            assert app.conductor.committed[TP("bulk", 0)] == 4
            assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]
            release.set()  # the second batch fails: its records will be processed again
            await asyncio.wait_for(app.wait_crashed(), 5)
            assert app.conductor.committable() == {TP("bulk", 0): 4}


async def test_take_with_timestamp_and_take_events(make_app: Callable[..., App]) -> None:
    app = make_app()
    stamped = [b async for b in app.stream([{"a": 1}, {"a": 2}]).take_with_timestamp(2, None, "ts")]
    assert [sorted(v) for v in stamped[0]] == [["a", "ts"], ["a", "ts"]]
    events = [b async for b in app.stream([1, 2]).take_events(2)]
    assert [e.value for e in events[0]] == [1, 2]


async def test_noack_needs_explicit_acks_before_commit(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("manual", value_type=int)
    held: list[Event] = []

    @app.agent(topic)
    async def keep(stream: Any) -> None:
        async for event in stream.noack().events():
            held.append(event)

    async with app.running():
        for i in range(4):
            await topic.send(value=i)
        await eventually(lambda: len(held) == 4)
        assert app.conductor.committable() == {}
        held[1].ack()  # out of order: nothing committable yet
        assert app.conductor.committable() == {}
        held[0].ack()
        assert app.conductor.committable() == {TP("manual", 0): 2}
        held[3].ack()
        held[2].ack()
        assert app.conductor.committable() == {TP("manual", 0): 4}


async def test_echo_and_through(make_app: Callable[..., App]) -> None:
    app = make_app()
    source = app.channel()
    copy = app.channel()
    middle = app.channel()
    copies: list[Any] = []
    results: list[Any] = []

    @app.agent(copy)
    async def copies_agent(stream: Any) -> None:
        async for value in stream:
            copies.append(value)

    @app.agent(source)
    async def relay(stream: Any) -> None:
        async for value in stream.echo(copy).through(middle):
            results.append(value)

    async with app.running():
        for i in range(3):
            await source.send(value=i)
        await eventually(lambda: len(results) == 3 and len(copies) == 3)
    assert results == [0, 1, 2]
    assert copies == [0, 1, 2]


async def test_through_a_topic_keeps_bytes_and_headers(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=2)
    source = app.topic("src", key_type=str, value_type=str)
    dest = app.topic("dest", key_type=str, value_type=str)
    got: list[tuple[Any, Any, dict[str, bytes]]] = []

    @app.agent(source)
    async def relay(stream: Any) -> None:
        async for event in stream.through(dest).events():
            got.append((event.key, event.value, dict(event.headers)))

    async with app.running():
        await source.send(key="k", value="v", headers={"h": b"1"})
        await eventually(lambda: len(got) == 1)
    assert got == [("k", "v", {"h": b"1"})]


async def test_tee_gives_every_event_to_every_branch(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("teed", value_type=int)
    left: list[int] = []
    right: list[int] = []

    async def read(stream: Any, into: list[int]) -> None:
        async for value in stream:
            into.append(value)

    async with app.running():
        a, b = app.stream(topic).tee(2)
        tasks = [asyncio.create_task(read(a, left)), asyncio.create_task(read(b, right))]
        await asyncio.sleep(0.05)  # the consumer joins for the new subscription
        for i in range(5):
            await topic.send(value=i)
        await eventually(lambda: len(left) == 5 and len(right) == 5)
        await eventually(lambda: app.conductor.committable() == {TP("teed", 0): 5})
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert left == right == [0, 1, 2, 3, 4]


async def test_combine_merges_streams(make_app: Callable[..., App]) -> None:
    app = make_app()
    one, two = app.channel(), app.channel()
    merged: list[Any] = []

    @app.agent(one)
    async def both(stream: Any) -> None:
        async for value in stream & app.stream(two):
            merged.append(value)

    async with app.running():
        await one.send(value="a")
        await two.send(value="b")
        await one.send(value="c")
        await eventually(lambda: len(merged) == 3)
    assert sorted(merged) == ["a", "b", "c"]


async def test_current_event(make_app: Callable[..., App]) -> None:
    app = make_app()
    seen: list[Any] = []

    @app.agent(app.channel())
    async def watch(stream: Any) -> None:
        async for value in stream:
            event = current_event()
            assert event is not None
            seen.append((value, event.value, stream.current_event is event))

    async with app.running():
        await watch.send(value="x")
        await eventually(lambda: len(seen) == 1)
    assert seen == [("x", "x", True)]


async def test_sleep_returns_early_when_the_stream_stops(make_app: Callable[..., App]) -> None:
    app = make_app()
    stream = app.stream([1])
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(stream.sleep(5))
    await asyncio.sleep(0.01)
    await stream.aclose()
    await asyncio.wait_for(task, 1)
    assert loop.time() - started < 1


async def test_pattern_topics_read_every_matching_topic_even_new_ones(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=2)
    orders = app.topic(pattern=r"orders-.*", value_type=int)
    seen: list[tuple[str, int]] = []

    @app.agent(orders)
    async def read(stream: Any) -> None:
        async for event in stream.events():
            seen.append((event.message.topic, event.value))

    async with app.running():
        await app.topic("orders-eu", value_type=int).send(value=1)
        await app.topic("orders-us", value_type=int).send(value=2)
        await app.topic("returns-eu", value_type=int).send(value=3)
        await eventually(lambda: len(seen) == 2, timeout=2)
        await app.topic("orders-asia", value_type=int).send(value=4)  # created after the start
        await eventually(lambda: len(seen) == 3)
        await app.conductor.checkpoint()
        consumer = app.conductor.consumer
        assert consumer is not None
        committed = [
            await consumer.committed(TP(name, p))
            for name in ("orders-eu", "orders-us", "orders-asia")
            for p in range(2)
        ]
        assert sum(c or 0 for c in committed) == 3
    assert sorted(seen) == [("orders-asia", 4), ("orders-eu", 1), ("orders-us", 2)]
    with pytest.raises(ValueError, match="names no single topic"):
        orders.get_topic_name()
