"""The ``memory://`` consumer: a group member reading the broker's logs in batches
(:mod:`strm.builtins.memory_transport`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from strm.builtins.memory_transport.broker import MemoryBroker, TopicLog
from strm.kernel.assignor import (
    ClusterMap,
    PartitionAssignor,
)
from strm.kernel.spi import (
    TP,
    Message,
    RebalanceListener,
)
from strm.kernel.transports import (
    NoOffsetForPartitionError,
    PartitionNotAssignedError,
    TransportError,
)
from strm.testing.faults import Cut, FaultPlan

if TYPE_CHECKING:
    pass


#: Most records one ``getmany`` returns, shared fairly by the partitions that have records.
MAX_RECORDS_PER_FETCH = 10_000

logger = logging.getLogger("strm.builtins.memory_transport")


class MemoryConsumer:
    """A consumer group member reading the broker's logs in batches, without copying messages.

    The :class:`strm.kernel.spi.Message` objects returned are shared by every consumer of the
    broker: read them, do not change them.
    """

    def __init__(
        self,
        broker: MemoryBroker,
        *,
        group_id: str,
        client_id: str,
        auto_offset_reset: str,
        topic_partitions: Callable[[], int],
        assignor: Callable[[], PartitionAssignor] | None = None,
        changelogs: Callable[[], set[str]] = set,
        faults: FaultPlan | None = None,
        url: Callable[[], str] = str,
    ) -> None:
        self.group_id = group_id
        self._faults = faults
        self.client_id = client_id
        self._assignor = assignor
        self._changelogs = changelogs
        #: The URL this member advertises to the group ('' for none).
        self._url = url
        #: The whole group's plan by URL, as of this member's current assignment.
        self._cluster: ClusterMap | None = None
        self._standby: set[TP] = set()
        self._last_active: set[TP] = set()
        self._last_standby: set[TP] = set()
        self._broker = broker
        self._group = broker.group(group_id)
        self._auto_offset_reset = auto_offset_reset
        self._topic_partitions = topic_partitions
        self._state = "new"
        self._joined = False
        self._topics: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._listener: RebalanceListener | None = None
        # None while holding no assignment (not joined, or between revoke and assign).
        self._assignment: set[TP] | None = None
        self._logs: dict[TP, list[Message]] = {}  # assigned partitions
        self._active: dict[TP, list[Message]] = {}  # assigned and not paused
        self._watched: list[TopicLog] = []  # topics of the assignment, to wait on
        self._positions: dict[TP, int] = {}
        self._paused: set[TP] = set()
        self._last_served: TP | None = None  # by a fetch allowed fewer records than partitions
        self._fetchable = False  # False during a rebalance, until on_partitions_assigned returns
        self._waiter: asyncio.Future[None] | None = None
        self._errors: list[BaseException] = []
        self._rebalances: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<MemoryConsumer {self.client_id!r} of group {self.group_id!r} ({self._state})>"

    # -- membership ---------------------------------------------------------------------------

    def subscribe(
        self, topics: Collection[str], listener: RebalanceListener, pattern: str | None = None
    ) -> None:
        if isinstance(topics, str):
            raise TypeError(
                f"subscribe() takes a collection of topic names, not the str {topics!r}"
            )
        if self._state == "stopped":
            raise TransportError(f"consumer {self.client_id!r} is stopped")
        wanted = frozenset(topics)
        compiled = re.compile(pattern) if pattern is not None else None
        changed = wanted != self._topics or pattern != (self._pattern and self._pattern.pattern)
        self._topics = wanted
        self._pattern = compiled
        self._listener = listener
        if self._state == "started" and changed:
            self._update_membership()
            self._schedule_rebalance()

    def matches(self, topic: str) -> bool:
        """Whether this member's subscription (names or pattern) covers ``topic``."""
        return topic in self._topics or (
            self._pattern is not None and self._pattern.fullmatch(topic) is not None
        )

    def _schedule_rebalance(self) -> None:
        task = asyncio.get_running_loop().create_task(self._group.rebalance())
        self._rebalances.add(task)
        task.add_done_callback(self._rebalance_done)

    def _update_membership(self) -> None:
        subscribed = bool(self._topics) or self._pattern is not None
        if subscribed and not self._joined:
            self._group.join(self)
            self._joined = True
        elif not subscribed and self._joined:
            self._group.leave(self)
            self._joined = False

    def _rebalance_done(self, task: asyncio.Task[None]) -> None:
        self._rebalances.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._errors.append(task.exception())  # type: ignore[arg-type]
            self._wake()

    async def start(self) -> None:
        """Join the group (when subscribed) and return once the rebalance that caused is done."""
        if self._state == "started":
            return
        if self._state == "stopped":
            raise TransportError(f"consumer {self.client_id!r} is stopped and cannot restart")
        self._state = "started"
        if self._topics or self._pattern is not None:
            self._update_membership()
            await self._group.rebalance()

    async def stop(self) -> None:
        """Leave the group: this member's partitions are revoked and the others rebalance.

        An error raised by this member's rebalance listener and not yet reported is raised here.
        """
        if self._state != "started":
            self._state = "stopped"
            return
        try:
            # Still started while leaving: the revoke listener may commit.
            if self._joined:
                self._joined = False
                self._group.leave(self)
                await self._group.rebalance()
            if self._rebalances:
                await asyncio.gather(*self._rebalances, return_exceptions=True)
        finally:
            self._state = "stopped"
            self._wake()
        self._raise_errors()

    async def _revoke(self) -> None:
        assert self._listener is not None and self._assignment is not None
        try:
            await self._listener.on_partitions_revoked(set(self._assignment))
        except Exception as exc:
            logger.exception("on_partitions_revoked of %r raised", self)
            self._errors.append(exc)

    async def _assigned(self, assigned: set[TP]) -> None:
        assert self._listener is not None
        try:
            await self._listener.on_partitions_assigned(set(assigned))
        except Exception as exc:
            logger.exception("on_partitions_assigned of %r raised", self)
            self._errors.append(exc)
        if self._assignment is not None:
            self._fetchable = True
        self._wake()

    def _set_assignment(self, assigned: set[TP] | None) -> None:
        self._assignment = assigned
        self._cluster = None
        self._paused.clear()
        self._positions.clear()
        if not assigned:
            self._logs = {}
            self._watched = []
        else:
            self._logs = {tp: self._broker.log(tp) for tp in sorted(assigned)}
            self._watched = [self._broker.topics[name] for name in {tp.topic for tp in assigned}]
            committed = self._group.committed
            for tp, log in self._logs.items():
                offset = committed.get(tp)
                if offset is None and self._auto_offset_reset != "none":
                    offset = self._reset_offset(tp, log, "has no committed offset")
                if offset is not None:
                    self._positions[tp] = offset
        self._active = dict(self._logs)

    # -- fetching -----------------------------------------------------------------------------

    async def getmany(
        self, timeout: float, max_records: int | None = None
    ) -> dict[TP, list[Message]]:
        if self._state != "started":
            raise TransportError(f"consumer {self.client_id!r} is not started")
        if max_records is not None and max_records < 1:
            raise ValueError(f"getmany(max_records={max_records!r}): must be at least 1")
        budget = min(max_records or MAX_RECORDS_PER_FETCH, MAX_RECORDS_PER_FETCH)
        if self._faults is not None:
            self._faults.check_alive()
            return self._cut_short(self._faults, await self._getmany(timeout, budget))
        return await self._getmany(timeout, budget)

    def _cut_short(
        self, faults: FaultPlan, batch: dict[TP, list[Message]]
    ) -> dict[TP, list[Message]]:
        """Return the changelog records up to the plan's kill, and die after them."""
        changelogs = self._changelogs()
        returned: dict[TP, list[Message]] = {}
        for tp, messages in batch.items():
            happening = None
            if tp.topic in changelogs:
                happening = faults.take(Cut.RECOVERY_RECORD, len(messages))
            if happening is None:
                returned[tp] = messages
                continue
            returned[tp] = messages[:happening]
            faults.kill()
            break
        return returned

    async def _getmany(self, timeout: float, budget: int) -> dict[TP, list[Message]]:
        if self._errors:
            self._raise_errors()
        batch = self._fetch(budget)
        if batch or timeout <= 0:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            await self._wait(loop, remaining)
            if self._state != "started":
                break
            if self._errors:
                self._raise_errors()
            batch = self._fetch(budget)
            if batch:
                return batch
        return {}

    def _fetch(self, budget: int) -> dict[TP, list[Message]]:
        """Up to ``budget`` records, shared among the partitions that have some."""
        if not self._fetchable:
            return {}
        positions = self._positions
        ready: list[tuple[int, TP, list[Message], int]] = []
        for tp, log in self._active.items():
            position = positions.get(tp)
            if position is None:
                position = self._first_position(tp, log)
            end = len(log)
            if position < end:
                ready.append((end - position, tp, log, position))
            elif position > end:
                positions[tp] = self._reset_offset(tp, log, f"offset {position} is out of range")
                if positions[tp] < end:
                    ready.append((end - positions[tp], tp, log, positions[tp]))
        if not ready:
            return {}
        if budget < len(ready):
            ready = self._take_turns(ready, budget)
        elif len(ready) > 1:
            # The partitions with fewest records first: what they leave of their equal share
            # goes to the partitions after them.
            ready.sort(key=lambda item: item[0])
        batch: dict[TP, list[Message]] = {}
        left = len(ready)
        for available, tp, log, position in ready:
            take = min(available, max(1, budget // left))
            left -= 1
            budget -= take
            end = position + take
            batch[tp] = log[position:end]
            positions[tp] = end
        return batch

    def _take_turns(
        self, ready: list[tuple[int, TP, list[Message], int]], budget: int
    ) -> list[tuple[int, TP, list[Message], int]]:
        """With fewer records allowed than partitions that have some, one record each for
        ``budget`` of them: those after the partition served last, in order, then from the
        first again, so that every partition is served within a few calls."""
        last = self._last_served
        ready.sort(key=lambda item: item[1])
        if last is not None:
            ready = [r for r in ready if r[1] > last] + [r for r in ready if r[1] <= last]
        chosen = ready[:budget]
        self._last_served = chosen[-1][1]
        return chosen

    def _first_position(self, tp: TP, log: list[Message]) -> int:
        offset = self._group.committed.get(tp)
        if offset is None:
            offset = self._reset_offset(tp, log, "has no committed offset")
        self._positions[tp] = offset
        return offset

    def _reset_offset(self, tp: TP, log: list[Message], reason: str) -> int:
        if self._auto_offset_reset == "earliest":
            return 0
        if self._auto_offset_reset == "latest":
            return len(log)
        raise NoOffsetForPartitionError(
            f"{tp} {reason} in group {self.group_id!r} and consumer_auto_offset_reset is "
            f"{self._auto_offset_reset!r}; commit or seek an offset, or set it to 'earliest' "
            "or 'latest'"
        )

    async def _wait(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        """Sleep until a record is appended to a watched topic, the assignment or a position
        changes, or ``timeout`` passes."""
        waiter = self._waiter = loop.create_future()
        watched = self._watched
        for topic in watched:
            topic.waiting.add(self)
        timer = loop.call_later(timeout, _set_done, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
            for topic in watched:
                topic.waiting.discard(self)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _raise_errors(self) -> None:
        if self._errors:
            first, *rest = self._errors
            self._errors.clear()
            for other in rest:
                logger.error("also raised by %r's rebalance listener: %r", self, other)
            raise first

    # -- positions ----------------------------------------------------------------------------

    def _check_assigned(self, tps: Iterable[TP], action: str) -> list[TP]:
        wanted = list(tps)
        assigned = self._assignment or set()
        missing = [tp for tp in wanted if tp not in assigned]
        if missing:
            shown = ", ".join(str(tuple(tp)) for tp in sorted(missing))
            raise PartitionNotAssignedError(
                f"cannot {action} {shown}: not assigned to consumer {self.client_id!r} of group "
                f"{self.group_id!r}"
            )
        return wanted

    def pause(self, tps: Iterable[TP]) -> None:
        for tp in self._check_assigned(tps, "pause"):
            self._paused.add(tp)
            self._active.pop(tp, None)

    def resume(self, tps: Iterable[TP]) -> None:
        resumed = False
        for tp in self._check_assigned(tps, "resume"):
            if tp in self._paused:
                self._paused.discard(tp)
                self._active[tp] = self._logs[tp]
                resumed = True
        if resumed:
            self._wake()

    def paused(self) -> set[TP]:
        return set(self._paused)

    def assignment(self) -> set[TP]:
        return set(self._assignment or ())

    def standbys(self) -> set[TP]:
        return set(self._standby) if self._assignment is not None else set()

    def cluster_map(self) -> ClusterMap | None:
        """Who holds what in the whole group, by URL (``None`` while holding no assignment)."""
        return self._cluster if self._assignment is not None else None

    def seek(self, tp: TP, offset: int) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"cannot seek {tp} to {offset!r}: an offset is an int >= 0")
        self._check_assigned([tp], "seek")
        self._positions[tp] = offset
        self._wake()

    async def position(self, tp: TP) -> int:
        """The offset of the next record ``getmany`` returns for ``tp``."""
        self._check_assigned([tp], "ask the position of")
        position = self._positions.get(tp)
        if position is None:
            raise NoOffsetForPartitionError(f"{tp} has no position yet")
        return position

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        if self._state != "started":
            raise TransportError(f"consumer {self.client_id!r} is not started; cannot commit")
        faults = self._faults
        if faults is not None:
            faults.check_alive()
            if faults.take(Cut.BEFORE_COMMIT):
                raise faults.kill()
        self._check_assigned(offsets, "commit")
        for tp, offset in offsets.items():
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise ValueError(f"cannot commit {offset!r} for {tp}: an offset is an int >= 0")
        self._group.committed.update(offsets)
        if faults is not None and faults.take(Cut.AFTER_COMMIT):
            raise faults.kill()

    async def committed(self, tp: TP) -> int | None:
        return self._group.committed.get(tp)

    async def end_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        return {tp: len(self._broker.log(tp)) for tp in tps}

    def highwater(self, tp: TP) -> int:  # strm.kernel.spi.HighwaterConsumer: the log's length
        return len(self._broker.log(tp))

    async def beginning_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        result: dict[TP, int] = {}
        for tp in tps:
            self._broker.log(tp)  # an unknown partition is an error, as for end_offsets
            result[tp] = 0
        return result


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
