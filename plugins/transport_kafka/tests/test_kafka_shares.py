"""How a bounded fetch is shared among partitions (:mod:`strm_transport_kafka.shares`), against a
stand-in for aiokafka's consumer that hands out prefetched records as aiokafka does: partition
after partition, in the order their fetches completed, the first until it has no more."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from strm_transport_kafka.shares import MIN_SHARE, FairShares


class Prefetched:
    """What ``FairShares`` uses of ``AIOKafkaConsumer``, over records already prefetched."""

    def __init__(self, backlog: dict[TopicPartition, int]) -> None:
        self.records = {tp: list(range(count)) for tp, count in backlog.items()}
        self.waited: list[int] = []
        self.failing: TopicPartition | None = None
        self.arriving: dict[TopicPartition, list[int]] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.records)

    def paused(self) -> set[TopicPartition]:
        return set()

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[int]]:
        if self.failing in partitions:
            raise KafkaError(f"fetching {self.failing} failed")
        if timeout_ms and not any(self.records.values()):
            self.waited.append(timeout_ms)
            for tp, records in self.arriving.items():
                self.records[tp] += records
            self.arriving = {}
        left = max_records
        got: dict[TopicPartition, list[int]] = {}
        for tp, records in self.records.items():
            if (partitions and tp not in partitions) or not records or left == 0:
                continue
            taken = records[:left]
            del records[: len(taken)]
            got[tp] = taken
            if left is not None:
                left -= len(taken)
        return got


def partitions(count: int) -> list[TopicPartition]:
    return [TopicPartition("t", p) for p in range(count)]


def sizes(fetched: dict[Any, list[Any]]) -> dict[int, int]:
    return {tp.partition: len(records) for tp, records in fetched.items()}


async def test_every_partition_with_records_gets_an_equal_share_of_the_budget() -> None:
    """aiokafka alone would hand all 400 records of the budget out of partition 0."""
    client = Prefetched({tp: 1_000 for tp in partitions(4)})
    fetched = await FairShares().getmany(client, 500, 400)
    assert sizes(fetched) == {0: 100, 1: 100, 2: 100, 3: 100}
    assert [fetched[tp][0] for tp in partitions(4)] == [0, 0, 0, 0]


async def test_a_budget_for_fewer_partitions_serves_the_others_in_the_next_fetches() -> None:
    client = Prefetched({tp: 1_000 for tp in partitions(8)})
    shares = FairShares()
    served = [sorted(sizes(await shares.getmany(client, 0, 2 * MIN_SHARE))) for _ in range(5)]
    assert served == [[0, 1], [2, 3], [4, 5], [6, 7], [0, 1]]


async def test_what_a_partition_leaves_of_its_share_goes_to_the_others() -> None:
    backlog = dict(zip(partitions(3), [10, 1_000, 1_000], strict=True))
    client = Prefetched(backlog)
    fetched = await FairShares().getmany(client, 0, 600)
    assert sizes(fetched) == {0: 10, 1: 295, 2: 295}
    assert fetched[TopicPartition("t", 1)] == list(range(295))


async def test_with_nothing_ready_it_waits_then_shares_among_the_partitions() -> None:
    client = Prefetched({tp: 0 for tp in partitions(2)})
    client.arriving = {tp: list(range(500)) for tp in partitions(2)}
    fetched = await FairShares().getmany(client, 500, 400)
    assert client.waited == [500]
    assert sum(sizes(fetched).values()) == 400
    assert set(sizes(fetched)) == {0, 1}
    assert await FairShares().getmany(Prefetched({}), 0, 400) == {}


async def test_an_error_after_records_were_taken_comes_with_the_next_fetch() -> None:
    """The records already taken out of aiokafka are returned, not lost with the error."""
    client = Prefetched({tp: 1_000 for tp in partitions(3)})
    client.failing = TopicPartition("t", 1)
    shares = FairShares()
    fetched = await shares.getmany(client, 0, 300)
    assert sizes(fetched) == {0: 100}
    with pytest.raises(KafkaError, match="fetching"):
        await shares.getmany(client, 0, 300)
    client.failing = None
    assert sizes(await shares.getmany(client, 0, 300)) == {0: 100, 1: 100, 2: 100}
