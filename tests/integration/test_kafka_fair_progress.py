"""Fair progress under a backlog on a real Kafka broker (issue 9, item 6).

What went wrong here: aiokafka hands a fetch out partition after partition, and a fetch not
bounded in records took everything prefetched (up to ``consumer_max_fetch_size`` bytes per
partition, hundreds of thousands of small records) into a stream buffer meant to hold 4,096. So
a worker restarted on a backlog worked through its partitions one after another, held the event
loop for seconds, and checkpointed once or twice where ``broker_commit_every`` asked for dozens.
The records are produced before the app starts; nothing here asserts on speed: the assertions
are on how much work had been done when something happened.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from itest_helpers import create_topic
from strm.app import App
from strm.sensors import Sensor
from strm.testing import eventually

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

#: Bound of every wait for a backlog to be worked through: generous, it is not a speed test.
WORK_TIMEOUT = 180.0


async def produce(bootstrap: str, topic: str, records: list[tuple[int, bytes, bytes]]) -> None:
    """Produce ``(partition, key, value)`` records and wait until the broker has them all."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1_048_576)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, key=key, value=value, partition=partition)
            for partition, key, value in records
        ]
        await producer.flush()
        for delivery in sent:
            await delivery
    finally:
        await producer.stop()


async def test_every_partition_starts_early_in_a_backlog(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    """8 partitions with 5,000 records each waiting: each partition's first event comes before
    a quarter of the events were processed (it came after seven eighths of them)."""
    partitions, total = 8, 40_000
    name = unique("backlog")
    await create_topic(kafka_bootstrap, name, partitions)
    await produce(
        kafka_bootstrap, name, [(i % partitions, b"k", b'{"n": 1}') for i in range(total)]
    )
    app = kafka_app(topic_partitions=partitions)
    first_at: dict[int, int] = {}
    processed = 0

    @app.agent(app.topic(name))
    async def consume(stream: Any) -> None:
        nonlocal processed
        async for event in stream.events():
            first_at.setdefault(event.message.partition, processed)
            processed += 1

    async with app.running():
        await eventually(lambda: processed == total, timeout=WORK_TIMEOUT)
    assert sorted(first_at) == list(range(partitions))
    assert max(first_at.values()) < total // 4, first_at


class CheckpointLog(Sensor):
    """Records how many events had been processed at each checkpoint."""

    def __init__(self, processed: Callable[[], int]) -> None:
        self.processed = processed
        self.at: list[int] = []

    def on_commit(self, offsets: Any, seconds: float) -> None:
        self.at.append(self.processed())


async def test_a_word_count_checkpoints_all_along_a_backlog(
    kafka_app: Callable[..., App], kafka_bootstrap: str, unique: Callable[[str], str]
) -> None:
    """A word count of 200,000 events with the default ``broker_commit_every`` (10,000): after
    the first checkpoint, no stretch of more than five times that goes without one (it
    checkpointed once or twice in a whole run). The first one comes later: it also waits for
    the producer's first connection and the changelog topic's metadata."""
    total, words = 200_000, [f"w{i}" for i in range(1_000)]
    name = unique("words")
    await create_topic(kafka_bootstrap, name, 4)
    records = [
        (i % 4, words[i % 1_000].encode(), b'"%s"' % words[i % 1_000].encode())
        for i in range(total)
    ]
    await produce(kafka_bootstrap, name, records)
    app = kafka_app(topic_partitions=4, broker_commit_interval=3600.0)
    counts = app.Table("counts", default=int)
    processed = 0
    log = CheckpointLog(lambda: processed)
    app.configure().sensors.add(log)

    @app.agent(app.topic(name, key_type=str, value_type=str))
    async def count(stream: Any) -> None:
        nonlocal processed
        async for word in stream:
            counts[word] += 1
            processed += 1

    async with app.running():
        await eventually(lambda: processed == total, timeout=WORK_TIMEOUT)
        during = [at for at in log.at if at < total]
        assert sum(counts.as_dict().values()) == total
    commit_every = app.conf.broker_commit_every
    assert during and during[0] <= 10 * commit_every, log.at
    stretches = [later - earlier for earlier, later in pairwise([*during, total])]
    assert max(stretches) <= 5 * commit_every, log.at
