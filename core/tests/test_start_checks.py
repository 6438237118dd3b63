"""The broker round trips of a worker's start: the leader topic is created while the source
topics are checked, and nobody asks for the leader topic's partition count after the first
assignment (each was a wait before the first event)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.builtins.memory_transport import MemoryAdmin
from strm.kernel.spi import TopicSpec

AppFactory = Callable[..., App]
WAIT = 5.0


async def test_the_leader_topic_is_created_while_the_source_topics_are_checked(
    strm_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader topic's creation waits here until a source topic has been asked about: run
    one after the other, the start would never get there."""
    app = strm_app_factory()
    topic = app.topic("words")
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
    topic = app.topic("words")

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
    topic = app.topic("words")
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
    assert "words" in asked
