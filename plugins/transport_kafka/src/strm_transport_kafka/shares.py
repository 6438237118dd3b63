"""A fetch bounded in records and shared among partitions, on aiokafka.

aiokafka's ``getmany(max_records=n)`` takes the n records from its prefetched partitions one
after another, in the order their fetches completed, and keeps giving the first partition until
its prefetched batch is used up: with a backlog that batch is ``consumer_max_fetch_size`` bytes,
tens of thousands of small records, before the next partition gets any. So the budget is split
into shares, and each partition is asked for its share in turn (one aiokafka call each, with the
partition named), starting after the partition asked last by the previous fetch: every
partition with records gets some in every fetch, or within a few when there are more partitions
than the budget serves.

Taking a prefetched batch a share at a time has a cost that :class:`Resting` avoids: see there.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from aiokafka.errors import IllegalStateError  # type: ignore[import-untyped]

#: Fewest records one partition is asked for: each ask is one aiokafka call, which costs about
#: as much as tens of records, so a budget spread over many partitions serves some of them per
#: fetch and the others in the next ones.
MIN_SHARE = 64
#: Longest that partitions without records rest while others have some (:class:`Resting`): a
#: quiet partition that gets records is fetched again within this long.
REST_LIMIT = 0.5


class Resting:
    """Partitions without records, paused in aiokafka while other partitions have prefetched
    records left.

    aiokafka sends one fetch at a time to a broker, and fetches a partition again only once the
    batch it prefetched for it is used up, which with a budget takes many fetches. Meanwhile
    the partitions read to their end (the leader-election topic's, a quiet topic's, standby
    changelogs) are fetched on their own, and the broker holds such a fetch for
    ``fetch_max_wait_ms`` (500 ms) waiting for records: the busy partitions, once used up,
    wait for it, which halved the throughput of a stream buffer of a few thousand records. So
    the quiet partitions rest while a busy one has records left, and are resumed when none has
    (or after :data:`REST_LIMIT`): they then go in the same fetch as the busy ones, which the
    broker answers at once.
    """

    def __init__(self) -> None:
        self.partitions: set[Any] = set()
        self._since = 0.0

    def update(self, client: Any, quiet: list[Any], more_left: bool) -> None:
        """After a fetch: ``quiet`` partitions gave nothing and are read to their end;
        ``more_left`` when a partition gave all it was asked for (aiokafka has more of its
        batch)."""
        now = time.monotonic()
        # a rebalance may have taken some away while the fetch ran: aiokafka refuses to pause
        # a partition it does not have
        quiet = [partition for partition in quiet if partition in client.assignment()]
        if more_left and quiet:
            if not self.partitions:
                self._since = now
            client.pause(*quiet)
            self.partitions.update(quiet)
        if self.partitions and (not more_left or now - self._since >= REST_LIMIT):
            self.wake(client)

    def wake(self, client: Any) -> None:
        assigned = self.partitions & client.assignment()
        if assigned:
            client.resume(*assigned)
        self.partitions.clear()

    def forget(self, partitions: Iterable[Any]) -> None:
        """Paused or resumed by the kernel itself: no longer resting here."""
        self.partitions.difference_update(partitions)


async def _read_to_the_end(client: Any, partition: Any) -> bool:
    """Whether a partition was fetched and read up to the end the broker gave (a partition not
    fetched yet may have a backlog: it must not rest)."""
    highwater: int | None = client.highwater(partition)
    if highwater is None:
        return False
    try:
        position: int = await client.position(partition)
    except IllegalStateError:  # revoked while its position was being reset
        return False
    return position >= highwater


class FairShares:
    """The turn of the partitions of one consumer, kept across fetches."""

    def __init__(self) -> None:
        self._asked_last: Any = None
        #: An error aiokafka raised after other partitions' records were taken in the same
        #: fetch: those are returned, and the error is raised by the next fetch (as aiokafka
        #: does itself), so that no record taken from aiokafka is lost.
        self._deferred: BaseException | None = None
        self.resting = Resting()

    async def getmany(self, client: Any, timeout_ms: int, budget: int) -> dict[Any, list[Any]]:
        """At most ``budget`` records, waiting up to ``timeout_ms`` when none are ready."""
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        fetchable = sorted(client.assignment() - client.paused())
        if not fetchable and self.resting.partitions:
            self.resting.wake(client)
            fetchable = sorted(client.assignment() - client.paused())
        if not fetchable:
            fetched: dict[Any, list[Any]] = await client.getmany(
                timeout_ms=timeout_ms, max_records=budget
            )
            return fetched
        share = max(MIN_SHARE, budget // len(fetchable))
        turn = self._in_turn(fetchable)
        fetched = {}
        asked: list[Any] = []
        more_left = await self._ask(client, turn, share, budget, fetched, asked)
        if not fetched and timeout_ms:
            # Nothing was ready: wait for the first records of any partition, then ask the
            # others. The partitions are named: aiokafka drops what it prefetched for the
            # paused partitions it looks at, and they would have to be fetched again.
            wanted = min(share, budget)
            fetched = await client.getmany(*fetchable, timeout_ms=timeout_ms, max_records=wanted)
            if fetched:
                taken = sum(len(records) for records in fetched.values())
                others = [p for p in turn if p not in fetched]
                more_left = await self._ask(client, others, share, budget - taken, fetched, asked)
                more_left = more_left or taken == wanted
        assigned = client.assignment()  # less than ``asked`` when a rebalance began meanwhile
        idle = [p for p in asked if p not in fetched and p in assigned]
        quiet = [p for p in idle if await _read_to_the_end(client, p)]
        self.resting.update(client, quiet, more_left)
        return fetched

    def _in_turn(self, fetchable: list[Any]) -> list[Any]:
        """The partitions, starting after the one asked last."""
        if self._asked_last is None:
            return fetchable
        start = bisect_right(fetchable, self._asked_last)
        return fetchable[start:] + fetchable[:start]

    async def _ask(
        self,
        client: Any,
        turn: list[Any],
        share: int,
        budget: int,
        fetched: dict[Any, list[Any]],
        asked: list[Any],
    ) -> bool:
        """Ask each partition of ``turn`` for its share until ``budget`` records were added to
        ``fetched`` (the partitions asked are added to ``asked``); what partitions with fewer
        records leave of their shares goes, in more rounds, to those that filled theirs.
        Whether a partition gave all it was asked for."""
        first_round = True
        gave_all: set[Any] = set()  # the partitions whose last ask was answered in full
        while turn and budget > 0:
            filled = []
            for partition in turn:
                if budget <= 0:
                    break
                wanted = min(share, budget)
                try:
                    got = await client.getmany(partition, timeout_ms=0, max_records=wanted)
                except Exception as exc:
                    if not fetched:
                        raise
                    self._deferred = exc
                    return bool(gave_all)
                if first_round:
                    self._asked_last = partition
                    asked.append(partition)
                records = got.get(partition)
                if records:
                    fetched.setdefault(partition, []).extend(records)
                    budget -= len(records)
                if records and len(records) == wanted:
                    filled.append(partition)
                    gave_all.add(partition)
                else:
                    gave_all.discard(partition)
            turn, first_round = filled, False
            share = max(MIN_SHARE, budget // len(filled)) if filled else 0
        return bool(gave_all)


__all__ = ["MIN_SHARE", "REST_LIMIT", "FairShares", "Resting"]
