"""Agents over topics on the memory transport: processing, commits, sinks, RPC."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.kernel.spi import TP
from strm.testing import eventually


async def test_agent_processes_every_record_and_commits(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=4)
    numbers = app.topic("numbers", value_type=int)
    seen: list[int] = []

    @app.agent(numbers)
    async def collect(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with app.running():
        for i in range(200):
            await numbers.send(key=str(i).encode(), value=i)
        await eventually(lambda: len(seen) == 200)
        await app.conductor.checkpoint()
        committed = {tp: o for tp, o in app.conductor.committed.items() if tp.topic == "numbers"}
        assert sorted(seen) == list(range(200))
        assert sum(committed.values()) == 200  # next offset per partition = records in it


async def test_records_of_one_key_keep_their_order(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=3)
    topic = app.topic("ordered", key_type=str, value_type=int)
    by_key: dict[str, list[int]] = {}

    @app.agent(topic)
    async def collect(stream: Any) -> None:
        async for key, value in stream.items():
            by_key.setdefault(key, []).append(value)

    async with app.running():
        for i in range(60):
            await topic.send(key=f"k{i % 5}", value=i)
        await eventually(lambda: sum(map(len, by_key.values())) == 60)
    for key, values in by_key.items():
        assert values == sorted(values), key
        assert len(values) == 12


async def test_yielding_agent_feeds_sinks(make_app: Callable[..., App]) -> None:
    app = make_app()
    called: list[Any] = []
    results = app.channel()
    collected: list[Any] = []

    @app.agent(results)
    async def gather(stream: Any) -> None:
        async for value in stream:
            collected.append(value)

    async def async_sink(value: Any) -> None:
        called.append(("async", value))

    @app.agent(sink=[called.append, async_sink, results])
    async def double(stream: Any) -> Any:
        async for value in stream:
            yield value * 2

    async with app.running():
        for i in range(3):
            await double.send(value=i)
        await eventually(lambda: len(collected) == 3)
    assert sorted(collected) == [0, 2, 4]
    assert sorted(v for v in called if not isinstance(v, tuple)) == [0, 2, 4]
    assert sorted(v for k, v in (c for c in called if isinstance(c, tuple))) == [0, 2, 4]


async def test_sinks_need_a_yielding_agent(make_app: Callable[..., App]) -> None:
    from strm.kernel.errors import StrmError

    app = make_app()
    with pytest.raises(StrmError, match="sinks need an agent that yields"):

        @app.agent(sink=[print])
        async def plain(stream: Any) -> None:
            async for _ in stream:
                pass


async def test_ask_and_friends(make_app: Callable[..., App]) -> None:
    app = make_app()

    @app.agent()
    async def upper(stream: Any) -> Any:
        async for value in stream:
            yield value.upper()

    async with app.running():
        assert await upper.ask("hello", timeout=5) == "HELLO"
        promise = await upper.ask_nowait("nowait")
        assert await asyncio.wait_for(promise, 5) == "NOWAIT"
        assert await upper.join(["a", "b", "c"]) == ["A", "B", "C"]
        assert await upper.kvjoin({"k1": "x", "k2": "y"}) == ["X", "Y"]
        mapped = [value async for value in upper.map(["p", "q"])]
        assert sorted(mapped) == ["P", "Q"]
        kvmapped = [value async for value in upper.kvmap([("k", "m"), ("j", "n")])]
        assert sorted(kvmapped) == ["M", "N"]


async def test_ask_between_two_apps_of_one_group(make_app: Callable[..., App]) -> None:
    """A request may be processed by the other worker; its reply still finds the asker."""
    apps = [make_app("rpc", topic_partitions=4) for _ in range(2)]
    for app in apps:

        @app.agent("rpc-requests", name="double")
        async def double(stream: Any) -> Any:
            async for value in stream:
                yield value * 2

    async with apps[0].running(), apps[1].running():
        await eventually(
            lambda: (
                all(a.conductor.assignment for a in apps)
                and len(apps[0].conductor.assignment | apps[1].conductor.assignment) == 5
            )
        )
        agent = apps[0].agents["double"]
        answers = await agent.join(list(range(20)))
    assert answers == [i * 2 for i in range(20)]


async def test_concurrency_processes_each_record_once(make_app: Callable[..., App]) -> None:
    app = make_app(topic_partitions=1)
    topic = app.topic("work", value_type=int)
    seen: list[int] = []
    active: list[int] = []
    peak = [0]

    @app.agent(topic, concurrency=4)
    async def work(stream: Any) -> None:
        async for value in stream:
            active.append(value)
            peak[0] = max(peak[0], len(active))
            await asyncio.sleep(0.01)
            active.remove(value)
            seen.append(value)

    async with app.running():
        for i in range(40):
            await topic.send(value=i)
        await eventually(lambda: len(seen) == 40)
        await app.conductor.checkpoint()
        assert app.conductor.committed[TP("work", 0)] == 40
    assert sorted(seen) == list(range(40))
    assert peak[0] > 1  # instances really ran side by side


async def test_agent_topic_options_and_name(make_app: Callable[..., App]) -> None:
    app = make_app()

    @app.agent("explicit-topic", name="named", partitions=2, value_type=int)
    async def named(stream: Any) -> None:
        async for _ in stream:
            pass

    assert app.agents["named"] is named
    assert named.channel.get_topic_name() == "explicit-topic"
    assert named.channel.partitions == 2
