"""Agent RPC on a real Kafka broker with two workers of one group: both app instances (same
app id, so one consumer group) run the same ``ask``-able agent, the agent's topic's partitions
are split between them, and ``ask``/``join``/``map`` from one instance get every reply through
its own reply topic — including the replies of requests the *other* worker processed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
import strm
from strm.app import App
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

PARTITIONS = 6


class Job(strm.Record):
    n: int


def make_worker(
    kafka_app: Callable[..., App], app_id: str, topic_name: str, name: str
) -> tuple[App, Any, list[int]]:
    app = kafka_app(app_id, topic_partitions=PARTITIONS)
    jobs = app.topic(topic_name, key_type=str, value_type=Job, partitions=PARTITIONS)
    handled: list[int] = []

    @app.agent(jobs, name="doubler")
    async def doubler(stream: Any) -> Any:
        async for job in stream:
            handled.append(job.n)
            yield {"n": job.n, "double": job.n * 2, "worker": name}

    return app, doubler, handled


def agent_partitions(app: App, topic_name: str) -> set[int]:
    return {tp.partition for tp in app.conductor.assignment if tp.topic == topic_name}


async def test_ask_and_join_from_one_worker_get_the_other_workers_replies(
    kafka_app: Callable[..., App], unique: Callable[[str], str]
) -> None:
    app_id = unique("rpc")
    topic_name = unique("rpc-jobs")
    app_a, doubler_a, handled_a = make_worker(kafka_app, app_id, topic_name, "a")
    app_b, doubler_b, handled_b = make_worker(kafka_app, app_id, topic_name, "b")

    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(app_a.running())
        await stack.enter_async_context(app_b.running())
        # one group, the agent topic's partitions split between the two
        await eventually(
            lambda: (
                agent_partitions(app_a, topic_name)
                and agent_partitions(app_b, topic_name)
                and len(agent_partitions(app_a, topic_name) | agent_partitions(app_b, topic_name))
                == PARTITIONS
            ),
            timeout=30,
        )
        assert not agent_partitions(app_a, topic_name) & agent_partitions(app_b, topic_name)

        # ask, one by one, with keys spread over every partition
        replies = [await doubler_a.ask(Job(n=i), key=f"k{i}", timeout=20) for i in range(12)]
        assert [r["double"] for r in replies] == [2 * i for i in range(12)]
        assert {r["worker"] for r in replies} == {"a", "b"}, replies

        # join: in order, each reply to its request, from both workers
        values = [Job(n=i) for i in range(100, 140)]
        joined = await asyncio.wait_for(
            doubler_a.kvjoin([(f"j{v.n}", v) for v in values]), timeout=30
        )
        assert [r["n"] for r in joined] == [v.n for v in values]
        assert [r["double"] for r in joined] == [2 * v.n for v in values]
        assert {r["worker"] for r in joined} == {"a", "b"}

        joined_plain = await asyncio.wait_for(
            doubler_a.join([Job(n=i) for i in range(200, 220)]), timeout=30
        )
        assert [r["double"] for r in joined_plain] == [2 * i for i in range(200, 220)]

        # the other direction, and map (replies as they come)
        mapped = [r async for r in doubler_b.map([Job(n=i) for i in range(300, 320)], key=None)]
        assert sorted(r["double"] for r in mapped) == [2 * i for i in range(300, 320)]

    # each request was processed exactly once, by one of the two
    expected = [*range(12), *range(100, 140), *range(200, 220), *range(300, 320)]
    assert sorted(handled_a + handled_b) == sorted(expected)
    assert handled_a and handled_b
