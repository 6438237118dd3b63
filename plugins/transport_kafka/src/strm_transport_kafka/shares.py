"""A fetch bounded in records and shared among partitions, on aiokafka.

aiokafka's ``getmany(max_records=n)`` takes the n records from its prefetched partitions one
after another, in the order their fetches completed, and keeps giving the first partition until
its prefetched batch is used up: with a backlog that batch is ``consumer_max_fetch_size`` bytes,
tens of thousands of small records, before the next partition gets any. So the budget is split
into shares, and each partition is asked for its share in turn (one aiokafka call each, with the
partition named), starting after the partition asked last by the previous fetch: every
partition with records gets some in every fetch, or within a few when there are more partitions
than the budget serves.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

#: Fewest records one partition is asked for: each ask is one aiokafka call, which costs about
#: as much as tens of records, so a budget spread over many partitions serves some of them per
#: fetch and the others in the next ones.
MIN_SHARE = 64


class FairShares:
    """The turn of the partitions of one consumer, kept across fetches."""

    def __init__(self) -> None:
        self._asked_last: Any = None
        #: An error aiokafka raised after other partitions' records were taken in the same
        #: fetch: those are returned, and the error is raised by the next fetch (as aiokafka
        #: does itself), so that no record taken from aiokafka is lost.
        self._deferred: BaseException | None = None

    async def getmany(self, client: Any, timeout_ms: int, budget: int) -> dict[Any, list[Any]]:
        """At most ``budget`` records, waiting up to ``timeout_ms`` when none are ready."""
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        fetchable = sorted(client.assignment() - client.paused())
        if not fetchable:
            fetched: dict[Any, list[Any]] = await client.getmany(
                timeout_ms=timeout_ms, max_records=budget
            )
            return fetched
        share = max(MIN_SHARE, budget // len(fetchable))
        turn = self._in_turn(fetchable)
        fetched = {}
        await self._ask(client, turn, share, budget, fetched)
        if fetched or not timeout_ms:
            return fetched
        # Nothing was ready: wait for the first records of any partition, then ask the others.
        fetched = await client.getmany(timeout_ms=timeout_ms, max_records=min(share, budget))
        if fetched:
            left = budget - sum(len(records) for records in fetched.values())
            await self._ask(client, [p for p in turn if p not in fetched], share, left, fetched)
        return fetched

    def _in_turn(self, fetchable: list[Any]) -> list[Any]:
        """The partitions, starting after the one asked last."""
        if self._asked_last is None:
            return fetchable
        start = bisect_right(fetchable, self._asked_last)
        return fetchable[start:] + fetchable[:start]

    async def _ask(
        self, client: Any, turn: list[Any], share: int, budget: int, fetched: dict[Any, list[Any]]
    ) -> None:
        """Ask each partition of ``turn`` for its share until ``budget`` records were added to
        ``fetched``; what partitions with fewer records leave of their shares goes, in more
        rounds, to those that filled theirs."""
        first_round = True
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
                    return
                if first_round:
                    self._asked_last = partition
                records = got.get(partition)
                if records:
                    fetched.setdefault(partition, []).extend(records)
                    budget -= len(records)
                    if len(records) == wanted:
                        filled.append(partition)
            turn, first_round = filled, False
            share = max(MIN_SHARE, budget // len(filled)) if filled else 0


__all__ = ["MIN_SHARE", "FairShares"]
