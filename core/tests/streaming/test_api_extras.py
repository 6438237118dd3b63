"""Smaller parts of the public API: cast, add_sink, app.send, Event.send, noack_take,
topic creation settings and the producer partitioner setting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.events import Event
from strm.kernel.spi import TP
from strm.testing import eventually


async def test_cast_add_sink_and_app_send(make_app: Callable[..., App]) -> None:
    app = make_app()
    results: list[Any] = []

    @app.agent()
    async def double(stream: Any) -> Any:
        async for value in stream:
            yield value * 2

    double.add_sink(results.append)
    async with app.running():
        await double.cast(1)
        await app.send(double.channel, value=2)
        await app.send(double.channel.get_topic_name(), value=3)  # by topic name
        await eventually(lambda: sorted(results) == [2, 4, 6])


async def test_event_send_reencodes_for_the_target_topic(make_app: Callable[..., App]) -> None:
    app = make_app()
    source = app.topic("as-str", value_type=str)
    target = app.topic("as-json")
    got: list[Any] = []

    @app.agent(source)
    async def relay(stream: Any) -> None:
        async for event in stream.events():
            await event.send(target, value={"text": event.value})

    @app.agent(target)
    async def read(stream: Any) -> None:
        async for event in stream.events():
            got.append((event.value, event.message.value))

    async with app.running():
        await source.send(value="hi")
        await eventually(lambda: len(got) == 1)
    assert got == [({"text": "hi"}, b'{"text":"hi"}')]


async def test_noack_take_leaves_acknowledgement_to_the_caller(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("nat", value_type=int)
    held: list[list[Event]] = []

    @app.agent(topic)
    async def keep(stream: Any) -> None:
        async for batch in stream.noack_take(3, within=0.05):
            held.append(batch)

    async with app.running():
        for i in range(3):
            await topic.send(value=i)
        await eventually(lambda: len(held) == 1)
        await eventually(lambda: app.conductor.committable() == {}, timeout=0.2)
        for event in held[0]:
            event.ack()
        assert app.conductor.committable() == {TP("nat", 0): 3}


async def test_internal_topics_are_created_with_their_settings(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=3)
    topic = app.topic(
        "made",
        internal=True,
        retention=60.0,
        compacting=True,
        deleting=True,
        config={"max.message.bytes": 1000},
    )
    sized = app.topic("sized", partitions=5)
    plain = app.topic("plain")
    await topic.declare()
    await sized.declare()
    await plain.declare()
    topics = get_broker(broker_url).topics
    spec = topics["made"].spec
    assert spec.partitions == 3
    assert spec.config == {
        "cleanup.policy": "compact,delete",
        "retention.ms": "60000",
        "max.message.bytes": "1000",
    }
    assert topics["sized"].spec.partitions == 5
    # An explicit declare() creates even a source topic, with the app's defaults, as Faust's
    # does; the worker itself creates only the topics strm owns (test_source_topics.py).
    assert topics["plain"].spec.partitions == 3


async def test_topic_allow_declare_false_creates_nothing(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_allow_declare=False)
    await app.topic("mine", internal=True).declare()
    assert "mine" not in get_broker(broker_url).topics


def first_partition(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    return all_partitions[0]


async def test_producer_partitioner_setting(make_app: Callable[..., App], broker_url: str) -> None:
    app = make_app(topic_partitions=4, producer_partitioner=first_partition)
    topic = app.topic("placed")
    for i in range(8):
        await topic.send(key=f"k{i}".encode(), value=i)
    logs = get_broker(broker_url).topics["placed"].logs
    assert [len(log) for log in logs] == [8, 0, 0, 0]

    named = make_app("named", topic_partitions=4, producer_partitioner="murmur2")
    other = named.topic("hashed")
    for i in range(40):
        await other.send(key=f"k{i}".encode(), value=i)
    assert all(get_broker(broker_url).topics["hashed"].logs)  # spread by key
