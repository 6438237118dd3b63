"""Under exactly-once the streams go on while a checkpoint's transaction commits: what they send
meanwhile waits and goes into the next transaction, never into the one being committed (whose
offsets do not account for it), and the checkpoint never waits for it (strm.runtime.snapshots).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from strm.app import App
from strm.builtins.memory_transport import get_broker
from strm.kernel.spi import TP
from strm.testing import eventually

WAIT = 10.0


def values(broker_url: str, topic: str) -> list[int]:
    broker = get_broker(broker_url)
    if topic not in broker.topics:
        return []
    return sorted(int(m.value) for log in broker.topics[topic].logs for m in log)


class HeldCommit:
    """Holds the producer's next transaction commit until released; keeps what it was asked
    to commit: the offsets, and the values of the transaction's records to ``topic``."""

    def __init__(self, producer: Any, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.real = producer.commit_transaction
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.offsets: dict[TP, int] = {}
        self.values: list[int] = []
        producer.commit_transaction = self.commit

    async def commit(self, offsets: Mapping[TP, int], group_id: str) -> None:
        self.offsets = dict(offsets)
        self.values = sorted(
            int(record.value)
            for record, _ in self.producer._transaction
            if record.topic == self.topic
        )
        self.entered.set()
        await self.release.wait()
        self.producer.commit_transaction = self.real
        await self.real(offsets, group_id)


async def test_streams_go_on_during_the_commit_and_their_sends_wait_for_the_next_transaction(
    make_app: Callable[..., App], broker_url: str
) -> None:
    app = make_app(
        "overlap",
        topic_partitions=1,
        processing_guarantee="exactly_once",
        broker_commit_interval=3600.0,
        broker_commit_every=10**9,
    )
    source = app.topic("overlap-in", value_type=int)
    out = app.topic("overlap-out", value_type=int)
    counts = app.Table("overlap-counts", default=int)
    counted: list[int] = []
    forwarded: list[int] = []

    @app.agent(source)
    async def count(stream: Any) -> None:
        async for value in stream:
            counts["all"] += 1
            counted.append(value)

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for value in stream:
            out.send_soon(value=1000 + value)  # queued, handed over by a task
            app.runtime.spawn_send(out.send(value=2000 + value))  # a task of its own
            await out.send(value=value)  # awaited: during the commit, the agent waits here
            forwarded.append(value)

    feeder = make_app("overlap-feeder", topic_partitions=1)
    feed = feeder.topic("overlap-in", value_type=int)
    async with app.running():
        await out.declare()
        for i in range(10):
            await feed.send(value=i)
        await eventually(lambda: len(counted) == len(forwarded) == 10)
        held = HeldCommit((await app.get_sender()).producer, "overlap-out")
        checkpoint = asyncio.create_task(app.conductor.checkpoint())
        async with asyncio.timeout(WAIT):
            await held.entered.wait()
        try:
            for i in range(10, 20):
                await feed.send(value=i)
            await eventually(lambda: len(counted) == 20)  # counted while the commit is held
        finally:
            held.release.set()
        first = [v + base for base in (0, 1000, 2000) for v in range(10)]
        assert held.values == sorted(first)
        assert held.offsets == {TP("overlap-in", 0): 10}

        async with asyncio.timeout(WAIT):
            await checkpoint
        assert values(broker_url, "overlap-out") == sorted(first)
        assert get_broker(broker_url).group("overlap").committed[TP("overlap-in", 0)] == 10

        await eventually(lambda: len(forwarded) == 20)
        await app.conductor.checkpoint()
        every = [v + base for base in (0, 1000, 2000) for v in range(20)]
        assert values(broker_url, "overlap-out") == sorted(every)
        assert get_broker(broker_url).group("overlap").committed[TP("overlap-in", 0)] == 20
        assert counts["all"] == 20
        assert forwarded == list(range(20))


async def test_records_held_until_commit_go_into_the_transaction(
    make_app: Callable[..., App], broker_url: str
) -> None:
    """``stream_publish_on_commit`` under exactly-once, with nothing else sent: the held
    records still go into a transaction (begun for them), with the offsets."""
    app = make_app(
        "held",
        topic_partitions=1,
        processing_guarantee="exactly_once",
        stream_publish_on_commit=True,
        broker_commit_interval=3600.0,
    )
    source = app.topic("held-in", value_type=int)
    out = app.topic("held-out", value_type=int)
    done: list[int] = []

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            await out.send(value=value)
            done.append(value)

    feeder = make_app("held-feeder", topic_partitions=1)
    async with app.running():
        await out.declare()
        for i in range(3):
            await feeder.topic("held-in", value_type=int).send(value=i)
        await eventually(lambda: len(done) == 3)
        await app.conductor.checkpoint()
        assert values(broker_url, "held-out") == [0, 1, 2]
        assert get_broker(broker_url).group("held").committed[TP("held-in", 0)] == 3
