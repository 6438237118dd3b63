"""What a worker's start makes its first event wait for: the leader topic is created while the
source topics are checked, nobody asks for the leader topic's partition count after the first
assignment, and the first fetch is small and reaches the agent before the next one is unpacked
(each was a wait before the first event)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import MemoryAdmin
from strm.builtins.memory_transport.consumer import MemoryConsumer
from strm.kernel.spi import TP, Message, TopicSpec
from strm.runtime.conductor import FIRST_FETCH_RECORDS
from strm.runtime.stream_reading import STREAM_TURN

AppFactory = Callable[..., App]
WAIT = 5.0


async def test_the_leader_topic_is_created_while_the_source_topics_are_checked(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader topic's creation waits here until a source topic has been asked about: run
    one after the other, the start would never get there."""
    app = strm_app_factory()
    topic = app.topic(f"words-{uuid.uuid4().hex[:8]}")
    asked = asyncio.Event()
    create_topic, partition_count = MemoryAdmin.create_topic, MemoryAdmin.partition_count

    async def create_after_the_check(admin: MemoryAdmin, spec: TopicSpec) -> bool:
        if spec.name == app.conductor.leader_topic:
            await asyncio.wait_for(asked.wait(), WAIT)
        return await create_topic(admin, spec)

    async def noted_check(admin: MemoryAdmin, name: str) -> int | None:
        asked.set()
        return await partition_count(admin, name)

    monkeypatch.setattr(MemoryAdmin, "create_topic", create_after_the_check)
    monkeypatch.setattr(MemoryAdmin, "partition_count", noted_check)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    async with asyncio.timeout(WAIT), app.running():
        assert app.conductor.leader_topic in app.conductor._declared


async def test_a_failing_leader_topic_fails_the_start(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = strm_app_factory()
    topic = app.topic(f"words-{uuid.uuid4().hex[:8]}")

    async def refused(admin: MemoryAdmin, spec: TopicSpec) -> bool:
        raise RuntimeError(f"cannot create {spec.name}")

    monkeypatch.setattr(MemoryAdmin, "create_topic", refused)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    with pytest.raises(RuntimeError, match="__assignor-__leader"):
        async with asyncio.timeout(WAIT), app.running():
            pass


async def test_no_partition_count_is_asked_for_the_leader_topic(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = strm_app_factory()
    topic = app.topic(f"words-{uuid.uuid4().hex[:8]}")
    asked: list[str] = []
    partition_count = MemoryAdmin.partition_count

    async def noted(admin: MemoryAdmin, name: str) -> int | None:
        asked.append(name)
        return await partition_count(admin, name)

    monkeypatch.setattr(MemoryAdmin, "partition_count", noted)
    seen: list[Any] = []

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for value in stream:
            seen.append(value)

    async with asyncio.timeout(WAIT), app.running():
        await topic.send(value="x")
        while not seen:
            await asyncio.sleep(0.01)
    assert app.conductor.leader_topic not in asked
    assert topic.get_topic_name() in asked


async def test_the_first_fetch_is_small_and_reaches_the_agent_before_the_next_fetch(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records wait in the topic before the worker starts, as a backlog does: the first
    fetch asks for ``FIRST_FETCH_RECORDS`` of them, and although the stream has waited longer
    than its turn (``STREAM_TURN``) by then, its first event comes before the consumer is
    asked again."""
    name = f"backlog-{uuid.uuid4().hex[:8]}"
    filler = strm_app_factory("filler")
    async with asyncio.timeout(WAIT), filler.running():
        for n in range(3 * FIRST_FETCH_RECORDS):
            await filler.topic(name).send(value=n)
    app = strm_app_factory(stream_buffer_maxsize=65_536)
    topic = app.topic(name)
    asked: list[int | None] = []
    getmany = MemoryConsumer.getmany

    async def noted(
        consumer: MemoryConsumer, timeout: float, max_records: int | None = None
    ) -> dict[TP, list[Message]]:
        if not asked:
            await asyncio.sleep(5 * STREAM_TURN)  # the stream's turn passes while it waits
        batches = await getmany(consumer, timeout, max_records)
        if batches:
            asked.append(max_records)
        return batches

    monkeypatch.setattr(MemoryConsumer, "getmany", noted)
    fetches_before_the_first_event: list[int] = []

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            if not fetches_before_the_first_event:
                fetches_before_the_first_event.append(len(asked))

    async with asyncio.timeout(WAIT), app.running():
        while not fetches_before_the_first_event:
            await asyncio.sleep(0.01)
    assert asked[0] == FIRST_FETCH_RECORDS
    assert fetches_before_the_first_event == [1]
