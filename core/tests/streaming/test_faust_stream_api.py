"""Faust's topic, stream and agent-testing API, each item the way Faust documents it."""

from __future__ import annotations

import asyncio
import functools
import re
import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock

import pytest
import strm as faust
from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.channels import Channel, Topic
from strm.events import Event
from strm.kernel.spi import TP
from strm.testing import eventually


class Order(faust.Record, serializer="json"):
    account_id: str
    amount: int


# -- topics ------------------------------------------------------------------------------------


async def test_declare_creates_a_topic_with_the_app_defaults_for_what_it_leaves_out(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=3)
    await app.topic("orders", value_type=Order).declare()
    await app.topic("sized", partitions=2, retention=timedelta(minutes=1)).declare()
    topics = get_broker(broker_url).topics
    assert topics["orders"].spec.partitions == 3
    assert topics["sized"].spec.partitions == 2
    assert topics["sized"].spec.config["retention.ms"] == "60000"


async def test_declare_leaves_an_existing_topic_as_it_is(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_partitions=3)
    await app.topic("orders", partitions=5).declare()
    await app.topic("orders").declare()
    assert get_broker(broker_url).topics["orders"].spec.partitions == 5


async def test_declare_creates_nothing_when_the_app_may_not(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(topic_allow_declare=False)
    await app.topic("orders").maybe_declare()
    assert "orders" not in get_broker(broker_url).topics


async def test_maybe_declare_calls_made_at_once_share_one_declaration(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app()
    topic = app.topic("orders")
    calls = 0
    declare = topic.declare

    async def counted() -> None:
        nonlocal calls
        calls += 1
        await declare()

    topic.declare = counted  # type: ignore[method-assign]
    await asyncio.gather(*(topic.maybe_declare() for _ in range(5)))
    assert calls == 1
    assert "orders" in get_broker(broker_url).topics
    await topic.maybe_declare()  # a later call declares again (a no-op for an existing topic)
    assert calls == 2


async def test_app_topic_takes_fausts_options(make_app: Callable[..., App]) -> None:
    app = make_app()
    topic = app.topic(
        "orders",
        key_type=str,
        value_type=Order,
        key_serializer="raw",
        value_serializer="json",
        partitions=4,
        retention=timedelta(days=1),
        compacting=True,
        deleting=False,
        replicas=1,
        acks=False,
        internal=True,
        config={"max.message.bytes": 2048},
        maxsize=10,
        allow_empty=True,
    )
    assert topic.get_topic_name() == "orders"
    assert (topic.partitions, topic.retention, topic.replicas) == (4, 86400.0, 1)
    assert (topic.compacting, topic.deleting, topic.acks, topic.internal) == (
        True,
        False,
        False,
        True,
    )
    assert topic.schema.value_type is Order and topic.schema.key_serializer == "raw"
    assert topic.spec("orders").config == {
        "cleanup.policy": "compact",
        "retention.ms": "86400000",
        "max.message.bytes": "2048",
    }
    assert (topic.maxsize, topic.allow_empty, topic.has_prefix) == (10, True, False)


async def test_a_pattern_may_be_a_compiled_regular_expression(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    topic = app.topic(pattern=re.compile(r"orders-.*"))
    assert topic.pattern == r"orders-.*"


async def test_derive_adds_a_prefix_and_suffix_and_marks_the_prefix(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    topic = app.topic("orders", value_type=Order, partitions=2)
    derived = topic.derive(prefix="eu-", suffix="-copy")
    assert derived.get_topic_name() == "eu-orders-copy"
    assert derived.schema.value_type is Order and derived.partitions == 2
    assert derived.has_prefix and not topic.derive_topic(suffix="-x").has_prefix
    channel = app.channel()
    assert channel.derive(suffix="-x") is channel


async def test_group_by_adds_no_app_prefix_to_a_topic_that_has_one(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    stream = app.stream(Topic(app, topics=["app-orders"], value_type=Order, has_prefix=True))
    grouped = stream.group_by(Order.account_id)
    assert isinstance(grouped.channel, Topic)
    assert grouped.channel.get_topic_name() == "app-orders-account_id-repartition"


# -- streams -----------------------------------------------------------------------------------


def test_stream_topic_and_channel_can_be_subscripted_in_annotations() -> None:
    async def process(stream: faust.Stream[Order], topic: faust.Topic[Order]) -> None:
        pass

    hints = typing.get_type_hints(process, globals())
    assert typing.get_origin(hints["stream"]) is faust.Stream
    assert typing.get_args(hints["topic"]) == (Order,)
    assert typing.get_origin(faust.Channel[int]) is faust.Channel


async def test_take_within_accepts_a_timedelta(make_app: Callable[..., App]) -> None:
    app = make_app()
    channel = app.channel()
    stream = app.stream(channel)
    got: list[list[int]] = []

    async def reader() -> None:
        async for batch in stream.take(100, within=timedelta(milliseconds=50)):
            got.append(batch)
            return

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    await channel.send(value=1)
    await channel.send(value=2)
    await asyncio.wait_for(task, 2)
    assert got == [[1, 2]]


async def test_filter_takes_any_predicate_returning_an_awaitable(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    async def above(limit: int, value: int) -> bool:
        return value > limit

    values = [v async for v in app.stream(range(6)).filter(functools.partial(above, 3))]
    assert values == [4, 5]
    mocked = AsyncMock(side_effect=lambda v: v % 2 == 1)
    assert [v async for v in app.stream(range(6)).filter(mocked)] == [1, 3, 5]


async def test_echo_and_through_by_name_use_the_stream_topic_types(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    orders = app.topic("orders", key_type=str, value_type=Order)
    stream = app.stream(orders)
    through = stream.through("orders-copy")
    assert isinstance(through.channel, Topic)
    assert through.channel.get_topic_name() == "orders-copy"
    assert through.channel.schema.value_type is Order
    channel = app.channel()
    assert app.stream(channel).through("plain").channel is app.resolve_channel("plain")


async def test_group_by_on_a_channel_rekeys_the_events_in_place(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    channel = app.channel()
    stream = app.stream(channel)
    got: list[tuple[Any, Order]] = []

    async def reader() -> None:
        async for key, order in stream.group_by(Order.account_id).items():
            got.append((key, order))
            if len(got) == 2:
                return

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    await channel.send(key="old", value=Order(account_id="a", amount=1))
    await channel.send(key="old", value=Order(account_id="b", amount=2))
    await asyncio.wait_for(task, 2)
    assert [key for key, _ in got] == ["a", "b"]


async def test_group_by_skips_an_event_whose_key_cannot_be_computed(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    async def account(value: dict[str, str]) -> str:
        return value["account"]

    stream = app.stream([{"account": "a"}, {}, {"account": "c"}])
    keys = [key async for key, _ in stream.group_by(account, name="account").items()]
    assert keys == ["a", "c"]


async def test_get_active_stream_and_get_root_stream_follow_the_chain(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    root = app.stream(app.topic("orders", value_type=Order))
    grouped = root.group_by(Order.account_id)
    filtered = grouped.filter(lambda order: order.amount > 0)
    assert root.get_active_stream() is filtered
    assert filtered.get_root_stream() is root
    assert grouped.get_active_stream() is filtered


async def test_stream_ack_is_awaited_and_finishes_a_noack_event(
    make_app: Callable[..., App],
) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("manual", value_type=int)
    held: list[Event] = []
    streams: list[faust.Stream] = []

    @app.agent(topic)
    async def keep(stream: faust.Stream) -> None:
        noack = stream.noack()
        streams.append(noack)
        async for event in noack.events():
            held.append(event)

    async with app.running():
        await topic.send(value=1)
        await eventually(lambda: len(held) == 1)
        assert app.conductor.committable() == {}
        assert await streams[0].ack(held[0]) is True
        assert app.conductor.committable() == {TP("manual", 0): 1}
    plain = app.stream([1])
    async for event in plain.events():
        assert await plain.ack(event) is False


async def test_active_partitions_of_isolated_agent_streams(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=2)
    topic = app.topic("iso", value_type=int)
    seen: dict[int, set[TP] | None] = {}

    @app.agent(topic, isolated_partitions=True)
    async def per_partition(stream: faust.Stream) -> None:
        async for event in stream.events():
            seen[event.message.partition] = stream.active_partitions

    async with app.running():
        await topic.send(value=1, partition=0)
        await topic.send(value=2, partition=1)
        await eventually(lambda: len(seen) == 2)
    assert seen == {0: {TP("iso", 0)}, 1: {TP("iso", 1)}}
    assert app.stream(topic).active_partitions is None


# -- agent.test_context() ----------------------------------------------------------------------


async def test_results_and_offsets_of_an_agent_that_yields(make_app: Callable[..., App]) -> None:
    app = make_app()

    @app.agent(app.topic("words", value_type=str))
    async def shout(stream: faust.Stream) -> Any:
        async for word in stream:
            yield word.upper()

    async with shout.test_context() as agent:
        first = await agent.put("hi")
        await agent.put("ho", key="k", partition=3, timestamp=5.0, headers={"h": "v"})
        assert agent.results == {0: "HI", 1: "HO"}
        assert (agent.sent_offset, agent.processed_offset) == (2, 2)
        assert first.message.topic == "words" and first.message.offset == 0


async def test_results_of_an_agent_that_yields_nothing_are_its_inputs(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    seen: list[int] = []

    @app.agent(app.topic("numbers", value_type=int))
    async def consume(stream: faust.Stream) -> None:
        async for number in stream:
            seen.append(number)

    async with consume.test_context() as agent:
        await agent.put(7)
        await agent.put(8)
    assert seen == [7, 8]
    assert agent.results == {0: 7, 1: 8}


async def test_new_value_processed_is_notified_for_each_result(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    @app.agent(app.channel())
    async def double(stream: faust.Stream) -> Any:
        async for number in stream:
            yield number * 2

    async with double.test_context() as agent:

        async def wait_for_result() -> int:
            async with agent.new_value_processed:
                await agent.new_value_processed.wait()
            return agent.results[0]

        waiter = asyncio.create_task(wait_for_result())
        await asyncio.sleep(0)
        await agent.put(21, wait=False)
        assert await asyncio.wait_for(waiter, 2) == 42


async def test_put_with_serializers_travels_as_encoded_bytes(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    got: list[tuple[Any, Any]] = []

    @app.agent(app.topic("orders", key_type=str, value_type=Order))
    async def orders(stream: faust.Stream) -> None:
        async for key, order in stream.items():
            got.append((key, order))

    async with orders.test_context() as agent:
        payload = {"account_id": "a", "amount": 3}
        event = await agent.put(payload, key="k", key_serializer="raw", value_serializer="json")
    assert got == [("k", Order(account_id="a", amount=3))]
    assert event.message.key == b"k" and event.message.value is not None


async def test_test_context_sinks_receive_the_results(make_app: Callable[..., App]) -> None:
    app = make_app()
    collected: list[int] = []
    sink_channel = app.channel()

    @app.agent(app.channel(), sink=[sink_channel])
    async def increment(stream: faust.Stream) -> Any:
        async for number in stream:
            yield number + 1

    async with increment.test_context(sink=[collected.append]) as agent:
        await agent.put(1)
    assert collected == [2]


async def test_put_raises_what_the_agent_raised_and_calls_on_error(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    errors: list[BaseException] = []

    @app.agent(app.channel())
    async def fragile(stream: faust.Stream) -> None:
        async for value in stream:
            raise KeyError(value)

    async def on_error(agent: Any, exc: BaseException) -> None:
        errors.append(exc)

    async with fragile.test_context(on_error=on_error) as agent:
        try:
            await agent.put("boom")
        except KeyError as exc:
            assert exc.args == ("boom",)
        else:
            raise AssertionError("put must raise what the agent raised")
    assert [type(e) for e in errors] == [KeyError]


async def test_test_context_over_a_channel_of_my_own(make_app: Callable[..., App]) -> None:
    app = make_app()
    mine: Channel = app.channel()

    @app.agent(app.topic("words", value_type=str))
    async def echo(stream: faust.Stream) -> Any:
        async for word in stream:
            yield word

    async with echo.test_context(channel=mine) as agent:
        assert agent.channel is mine
        await agent.put("x")
        assert agent.results == {0: "x"}


async def test_a_supervisor_strategy_for_a_test_copy_is_refused_not_ignored(
    strm_app_factory: Callable[..., App],
) -> None:
    from strm.kernel.errors import SettingNotSupportedError

    app = strm_app_factory()

    @app.agent()
    async def worker(stream: Any) -> None:
        async for _ in stream:
            pass

    with pytest.raises(SettingNotSupportedError, match=r"supervisor_strategy=.* is not supported"):
        worker.test_context(supervisor_strategy="crashing")
