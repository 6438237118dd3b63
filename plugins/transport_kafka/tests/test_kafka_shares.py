"""How a bounded fetch is shared among partitions (:mod:`strm_transport_kafka.shares`), against a
stand-in for aiokafka's consumer that hands out prefetched records as aiokafka does: partition
after partition, in the order their fetches completed, the first until it has no more."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from strm_transport_kafka import shares
from strm_transport_kafka.shares import MIN_SHARE, FairShares


class Prefetched:
    """What ``FairShares`` uses of ``AIOKafkaConsumer``, over records already prefetched."""

    def __init__(self, backlog: dict[TopicPartition, int]) -> None:
        self.records = {tp: list(range(count)) for tp, count in backlog.items()}
        self.waited: list[int] = []
        self.failing: TopicPartition | None = None
        self.arriving: dict[TopicPartition, list[int]] = {}
        self.paused_now: set[TopicPartition] = set()
        #: Where each partition ends on the broker, once a fetch has said (aiokafka's
        #: highwater); the stand-in's records are what is prefetched, up to that end.
        self.ends: dict[TopicPartition, int] = {tp: count for tp, count in backlog.items()}
        self.taken: dict[TopicPartition, int] = dict.fromkeys(backlog, 0)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    async def position(self, tp: TopicPartition) -> int:
        return self.taken[tp]

    def assignment(self) -> set[TopicPartition]:
        return set(self.records)

    def paused(self) -> set[TopicPartition]:
        return set(self.paused_now)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_now.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_now.difference_update(partitions)

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
            if tp in self.paused_now:
                records.clear()  # what aiokafka does with a paused partition it looks at
                continue
            taken = records[:left]
            del records[: len(taken)]
            self.taken[tp] += len(taken)
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


async def test_quiet_partitions_rest_while_a_busy_one_has_records_left() -> None:
    """Fetched on its own, a quiet partition would be a fetch the broker holds for 500 ms,
    which the busy partition, once used up, would have to wait for."""
    busy, quiet = partitions(2)
    client = Prefetched({busy: 1_000, quiet: 0})
    fetcher = FairShares()
    assert sizes(await fetcher.getmany(client, 0, 400)) == {0: 400}
    assert client.paused() == {quiet}
    assert sizes(await fetcher.getmany(client, 0, 400)) == {0: 400}
    assert client.paused() == {quiet}
    assert sizes(await fetcher.getmany(client, 0, 400)) == {0: 200}  # used up: both fetched
    assert client.paused() == set()
    assert client.records[quiet] == [], "a resting partition's records must be kept"


async def test_a_resting_partition_paused_by_the_kernel_stays_paused() -> None:
    busy, quiet = partitions(2)
    client = Prefetched({busy: 1_000, quiet: 0})
    fetcher = FairShares()
    await fetcher.getmany(client, 0, 400)
    fetcher.resting.forget([quiet])  # KafkaConsumer.pause() from the kernel
    client.records[busy].clear()
    assert await fetcher.getmany(client, 0, 400) == {}
    assert client.paused() == {quiet}


async def test_quiet_partitions_rest_no_longer_than_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shares, "REST_LIMIT", 0.0)
    busy, quiet = partitions(2)
    client = Prefetched({busy: 1_000, quiet: 0})
    await FairShares().getmany(client, 0, 400)
    assert client.paused() == set()


async def test_a_partition_not_fetched_yet_does_not_rest() -> None:
    """It may have a backlog: resting it would leave it until the others are read through."""
    busy, unknown = partitions(2)
    client = Prefetched({busy: 1_000, unknown: 0})
    del client.ends[unknown]
    await FairShares().getmany(client, 0, 400)
    assert client.paused() == set()


def test_a_quiet_partition_revoked_during_the_fetch_is_not_paused() -> None:
    """aiokafka raises IllegalStateError when asked to pause a partition it no longer has
    (seen in a kill storm after a reassignment)."""
    kept, revoked = TopicPartition("t", 0), TopicPartition("t", 1)

    class Reassigned(Prefetched):
        def pause(self, *partitions: TopicPartition) -> None:
            assert revoked not in partitions, "paused a partition no longer assigned"
            super().pause(*partitions)

    client = Reassigned({kept: 5})
    resting = shares.Resting()
    resting.update(client, [kept, revoked], more_left=True)
    assert client.paused_now == {kept}
