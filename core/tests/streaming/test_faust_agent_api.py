"""The agent API as Faust defines it: ``@app.agent`` options, send/cast/ask, map/join, sinks,
callbacks, ``info``/``clone``/``stream``, and the event methods agents use."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import strm
from strm.agents.agent import Agent
from strm.app import App
from strm.events import Event, current_event
from strm.kernel.errors import StrmError
from strm.kernel.spi import RecordMetadata
from strm.testing import eventually


async def test_an_agent_without_a_channel_reads_its_own_topic(make_app: Callable[..., App]) -> None:
    app = make_app(id="anon")
    seen: list[tuple[Any, Any]] = []

    @app.agent(key_type=str, value_type=int)
    async def counter(stream: Any) -> None:
        async for key, value in stream.items():
            seen.append((key, value))

    assert counter.get_topic_names() == (f"anon-{counter.name}",)
    async with app.running():
        await counter.send(key="a", value=1)
        await counter.cast(2, key="b")
        await eventually(lambda: len(seen) == 2)
    assert sorted(seen) == [("a", 1), ("b", 2)]


async def test_ask_returns_what_the_agent_yields_for_the_request(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    @app.agent(app.topic("adds", value_type=int))
    async def add_one(stream: Any) -> AsyncIterator[int]:
        async for value in stream:
            yield value + 1

    async with app.running():
        assert await add_one.ask(value=41, key=b"k") == 42
        assert await add_one.ask(1, timeout=5.0) == 2


async def test_map_kvmap_join_and_kvjoin_take_plain_and_async_iterables(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    @app.agent(app.topic("squares", value_type=int))
    async def square(stream: Any) -> AsyncIterator[int]:
        async for value in stream:
            yield value * value

    async def numbers() -> AsyncIterator[int]:
        for i in range(4):
            yield i

    async with app.running():
        assert await square.join([1, 2, 3]) == [1, 4, 9]
        assert await square.join(numbers()) == [0, 1, 4, 9]
        assert await square.kvjoin([(b"a", 5), (b"b", 6)]) == [25, 36]
        assert await square.kvjoin({b"a": 7}) == [49]
        mapped = [v async for v in square.map(numbers(), key=b"same")]
        assert sorted(mapped) == [0, 1, 4, 9]
        kvmapped = [v async for v in square.kvmap([(b"x", 2), (b"y", 3)])]
        assert sorted(kvmapped) == [4, 9]


async def test_send_with_reply_to_an_agent_delivers_the_result_to_that_agent(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    received: list[Any] = []

    @app.agent(app.topic("results"))
    async def results(stream: Any) -> None:
        async for value in stream:
            received.append(value)

    @app.agent(app.topic("shout", value_type=str))
    async def shout(stream: Any) -> AsyncIterator[str]:
        async for value in stream:
            yield value.upper()

    async with app.running():
        await shout.send(value="hey", reply_to=results, correlation_id="c-1")
        await eventually(lambda: received == ["HEY"])


async def test_send_calls_its_callback_with_the_completed_future(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    sync_calls: list[RecordMetadata] = []
    async_calls: list[RecordMetadata] = []

    @app.agent(app.topic("sent", value_type=int))
    async def sink(stream: Any) -> None:
        async for _ in stream:
            pass

    async def on_sent_async(future: asyncio.Future[RecordMetadata]) -> None:
        async_calls.append(future.result())

    async with app.running():
        pending = await sink.send(
            value=1, callback=lambda fut: sync_calls.append(fut.result()), force=True
        )
        metadata = await pending
        await sink.send(value=2, callback=on_sent_async)
        await eventually(lambda: len(sync_calls) == 1 and len(async_calls) == 1)
    assert sync_calls[0] == metadata
    assert sync_calls[0].topic == "sent"
    assert async_calls[0].topic == "sent"


async def test_sinks_can_be_agents_channels_and_callables(make_app: Callable[..., App]) -> None:
    app = make_app()
    from_agent: list[Any] = []
    from_channel: list[Any] = []
    called: list[Any] = []
    channel = app.channel()

    @app.agent(channel)
    async def channel_reader(stream: Any) -> None:
        async for value in stream:
            from_channel.append(value)

    @app.agent(app.topic("sunk", value_type=int))
    async def downstream(stream: Any) -> None:
        async for value in stream:
            from_agent.append(value)

    async def async_sink(value: Any) -> None:
        called.append(("async", value))

    @app.agent(app.topic("source", value_type=int), sink=[downstream, channel])
    async def tenfold(stream: Any) -> AsyncIterator[int]:
        async for value in stream:
            yield value * 10

    tenfold.add_sink(called.append)
    tenfold.add_sink(async_sink)
    tenfold.add_sink(called.append)  # added once only
    async with app.running():
        await tenfold.send(value=3)
        await eventually(lambda: from_agent == [30] and from_channel == [30] and len(called) == 2)
    assert called == [30, ("async", 30)]


async def test_info_clone_stream_label_and_topic_names(make_app: Callable[..., App]) -> None:
    app = make_app()
    topic = app.topic("described", value_type=str)

    @app.agent(topic, name="describer", concurrency=2)
    async def describer(stream: Any) -> None:
        """Describes things."""
        async for _ in stream:
            pass

    info = describer.info()
    assert info["name"] == "describer"
    assert info["channel"] is topic
    assert info["concurrency"] == 2
    assert info["help"] == "Describes things."
    assert info["isolated_partitions"] is False
    assert info["fun"] is describer.fun
    assert set(info) >= {"app", "sink", "on_error", "supervisor_strategy"}
    clone = describer.clone(name="other", concurrency=1)
    assert (clone.name, clone.concurrency, clone.channel) == ("other", 1, topic)
    assert describer.get_topic_names() == ("described",)
    assert "describer" in describer.label
    run = describer(stream=app.stream([]))  # Faust's keyword spelling
    assert inspect.iscoroutine(run)
    run.close()

    async with app.running():
        side = describer.stream()
        await topic.send(value="seen by both")
        async for value in side:
            assert value == "seen by both"
            break
        await side.aclose()


async def test_on_error_is_awaited_with_the_agent_and_the_error(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    errors: list[tuple[Agent, BaseException]] = []

    async def on_error(agent: Agent, exc: BaseException) -> None:
        errors.append((agent, exc))

    async def fragile(stream: Any) -> None:
        async for value in stream:
            raise ValueError(f"bad {value}")

    agent = Agent(fragile, app=app, channel=app.channel(), name="fragile", on_error=on_error)
    async with app.running(), agent.running():
        await agent.send(value=1)
        await eventually(lambda: len(errors) == 1)
    assert errors[0][0] is agent
    assert str(errors[0][1]) == "bad 1"


def test_use_reply_headers_false_is_refused(make_app: Callable[..., App]) -> None:
    app = make_app()

    async def fun(stream: Any) -> None:
        async for _ in stream:
            pass

    Agent(fun, app=app, channel=app.channel(), name="headers", use_reply_headers=True)
    with pytest.raises(StrmError, match=r"use_reply_headers=False .* not supported"):
        Agent(fun, app=app, channel=app.channel(), name="envelope", use_reply_headers=False)


async def test_asking_for_replies_on_another_topic_is_refused(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    @app.agent(app.topic("echo"))
    async def echo(stream: Any) -> AsyncIterator[Any]:
        async for value in stream:
            yield value

    async with app.running():
        with pytest.raises(StrmError, match="other than the app's reply topic"):
            await echo.ask(value=1, reply_to="elsewhere")


async def test_take_batches_events_current_event_ack_forward_and_send(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    batches: list[list[int]] = []
    forwarded: list[Any] = []
    copied: list[Any] = []
    acked: list[bool] = []
    sent: list[RecordMetadata] = []

    @app.agent(app.topic("batched", value_type=int))
    async def batcher(stream: Any) -> None:
        async for batch in stream.take(3, within=5):
            batches.append(batch)

    raw_out = app.topic("raw-out", value_type=bytes)
    copy_out = app.topic("copy-out", value_type=int)

    @app.agent(raw_out)
    async def raw_reader(stream: Any) -> None:
        async for value in stream:
            forwarded.append(value)

    @app.agent(copy_out)
    async def copy_reader(stream: Any) -> None:
        async for value in stream:
            copied.append(value)

    @app.agent(app.topic("evented", value_type=int))
    async def evented(stream: Any) -> None:
        async for event in stream.events():
            assert isinstance(event, Event)
            assert current_event() is event
            await event.forward(raw_out)
            await event.send(
                copy_out, value=event.value + 1, callback=lambda fut: sent.append(fut.result())
            )
            acked.append(event.ack())

    async with app.running():
        for i in range(6):
            await batcher.send(value=i)
        await evented.send(value=7)
        await eventually(lambda: sum(map(len, batches)) == 6 and copied and forwarded and sent)
    assert sorted(v for batch in batches for v in batch) == list(range(6))
    assert all(len(batch) <= 3 for batch in batches)
    assert forwarded == [b"7"]  # the original bytes, not re-encoded
    assert copied == [8]
    assert acked == [False]  # ordinary iteration acknowledges by itself
    assert sent[0].topic == "copy-out"


def test_agent_is_importable_as_faust_names_it() -> None:
    assert strm.Agent is Agent
