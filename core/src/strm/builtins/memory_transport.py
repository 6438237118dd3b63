"""The ``memory://`` transport: a broker inside the process, for tests and one-process apps.

Brokers live in a process-wide registry keyed by the URL's location (netloc and path): two apps
in one process with the same URL share topics, committed offsets and consumer groups, while
``memory://`` and ``memory://x`` are separate brokers. Nothing is persisted. A test that wants a
broker of its own uses :func:`unique_url` and, at teardown, :func:`drop_broker`.

It behaves like Kafka where the kernel can tell: topics are created on first use with the
``topic_partitions`` setting, offsets count from 0 per partition, a consumer group rebalances
eagerly (every member's partitions are revoked, then all are assigned again) whenever a member
joins, leaves or changes its subscription, and the plan comes from the first member's
``PartitionAssignor`` (co-partitioned topics together, sticky, table standbys). Every member
learns the whole plan by the members' ``canonical_url`` (``consumer.cluster_map()``), as the
Kafka transport's members learn it from their assignment. A transactional
producer's records become visible, with the group's offsets, only when its transaction commits.
All clients of one broker must run on one event loop (one thread); producing is synchronous
underneath, so a send is complete at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from strm.kernel import records
from strm.kernel.assignor import (
    Assignment,
    ClusterMap,
    MemberSubscription,
    PartitionAssignor,
    map_cluster,
)
from strm.kernel.errors import ConfigurationError
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision
from strm.kernel.redaction import redact_url
from strm.kernel.spi import (
    TP,
    Message,
    ProducerRecord,
    RebalanceListener,
    RecordMetadata,
    TopicSpec,
)
from strm.kernel.transports import (
    NoOffsetForPartitionError,
    PartitionNotAssignedError,
    RecordTooLargeError,
    TransportError,
)
from strm.kernel.transports.record_size import record_size
from strm.runtime.seals import SEAL_KEY
from strm.testing.faults import Cut, FaultPlan

if TYPE_CHECKING:
    from strm.kernel.contexts import TransportContext

SCHEME = "memory"
#: Most records one ``getmany`` returns, shared fairly by the partitions that have records.
MAX_RECORDS_PER_FETCH = 10_000

logger = logging.getLogger(__name__)

T = TypeVar("T")


# -- the broker registry -----------------------------------------------------------------------

_BROKERS: dict[str, MemoryBroker] = {}


def broker_key(url: str) -> str:
    """The registry key of a ``memory://`` URL: its netloc and path (``'x'`` for ``memory://x``)."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ConfigurationError(f"not a {SCHEME}:// URL: {redact_url(url)!r}")
    return parts.netloc + parts.path


def get_broker(url: str) -> MemoryBroker:
    """The broker of a URL, created on first use."""
    key = broker_key(url)
    broker = _BROKERS.get(key)
    if broker is None:
        broker = _BROKERS[key] = MemoryBroker(key)
    return broker


def drop_broker(url: str) -> None:
    """Forget a URL's broker and everything in it; the next use of the URL starts afresh."""
    _BROKERS.pop(broker_key(url), None)


def unique_url(prefix: str = "test") -> str:
    """A URL no other broker has: a fresh, empty broker for one test."""
    return f"{SCHEME}://{prefix}-{uuid.uuid4().hex}"


# -- topics ------------------------------------------------------------------------------------


class _Topic:
    """A topic's partitions: one append-only list of messages each, the index being the offset."""

    __slots__ = ("logs", "name", "spec", "waiting")

    def __init__(self, spec: TopicSpec) -> None:
        self.name = spec.name
        self.spec = spec
        self.logs: list[list[Message]] = [[] for _ in range(spec.partitions)]
        # Consumers blocked in getmany() on this topic; woken by the next append.
        self.waiting: set[MemoryConsumer] = set()

    def log(self, partition: int) -> list[Message]:
        if not 0 <= partition < len(self.logs):
            raise TransportError(
                f"{TP(self.name, partition)} does not exist: topic {self.name!r} has "
                f"{len(self.logs)} partitions"
            )
        return self.logs[partition]

    def append(self, record: ProducerRecord) -> RecordMetadata:
        log = self.log(record.partition)
        offset = len(log)
        timestamp = time.time() if record.timestamp is None else record.timestamp
        log.append(
            Message(
                self.name,
                record.partition,
                offset,
                timestamp,
                record.key,
                record.value,
                tuple(record.headers),
            )
        )
        if self.waiting:
            for consumer in self.waiting:
                consumer._wake()
            self.waiting.clear()
        return RecordMetadata(self.name, record.partition, offset, timestamp)


class MemoryBroker:
    """Topics and consumer groups shared by every client of one ``memory://`` URL."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.topics: dict[str, _Topic] = {}
        self.groups: dict[str, _Group] = {}

    def __repr__(self) -> str:
        return f"<MemoryBroker {redact_url(self.key)!r}: {len(self.topics)} topics>"

    def create_topic(self, spec: TopicSpec) -> bool:
        if spec.partitions < 1:
            raise ValueError(
                f"topic {spec.name!r} needs at least one partition, got {spec.partitions}"
            )
        if spec.name in self.topics:
            return False
        self.topics[spec.name] = _Topic(spec)
        for group in self.groups.values():
            group.topic_created(spec.name)
        return True

    def topic(self, name: str, partitions: Callable[[], int]) -> _Topic:
        """The topic, created with ``partitions()`` partitions if it does not exist yet."""
        topic = self.topics.get(name)
        if topic is None:
            if not name:
                raise TransportError("a topic name cannot be empty")
            self.create_topic(TopicSpec(name, partitions()))
            topic = self.topics[name]
        return topic

    def log(self, tp: TP) -> list[Message]:
        topic = self.topics.get(tp.topic)
        if topic is None:
            raise TransportError(f"{tp} does not exist: no topic {tp.topic!r}")
        return topic.log(tp.partition)

    def group(self, group_id: str) -> _Group:
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = _Group(self, group_id)
        return group


# -- consumer groups -----------------------------------------------------------------------------


class _Group:
    """The members of one consumer group and its committed offsets.

    A rebalance is run by whichever member's start, stop or subscription change caused it; a
    change during a rebalance makes it run once more, and concurrent callers wait for the end.
    """

    def __init__(self, broker: MemoryBroker, group_id: str) -> None:
        self.broker = broker
        self.group_id = group_id
        self.members: list[MemoryConsumer] = []  # in join order
        self.leaving: list[MemoryConsumer] = []  # left, partitions not yet revoked
        self.committed: dict[TP, int] = {}
        self._running = False
        self._again = False
        self._idle: list[asyncio.Future[None]] = []

    def join(self, member: MemoryConsumer) -> None:
        self.members.append(member)

    def leave(self, member: MemoryConsumer) -> None:
        self.members.remove(member)
        self.leaving.append(member)

    def topic_created(self, name: str) -> None:
        """A pattern subscription takes in topics created after it, as Kafka's does."""
        for member in self.members:
            if member._pattern is not None and member._pattern.fullmatch(name):
                member._schedule_rebalance()
                return

    async def rebalance(self) -> None:
        self._again = True
        if self._running:
            done = asyncio.get_running_loop().create_future()
            self._idle.append(done)
            await done
            return
        self._running = True
        try:
            while self._again:
                self._again = False
                await self._rebalance_once()
        finally:
            self._running = False
            idle, self._idle = self._idle, []
            for done in idle:
                if not done.done():
                    done.set_result(None)

    async def _rebalance_once(self) -> None:
        # A member that left and joined again is in both lists: revoke it once.
        everyone = dict.fromkeys((*self.members, *self.leaving))
        holders = [member for member in everyone if member._assignment is not None]
        self.leaving.clear()
        for member in holders:
            member._fetchable = False
        await asyncio.gather(*(member._revoke() for member in holders))
        for member in holders:
            member._set_assignment(None)
        members = list(self.members)
        plan = self._plan(members)
        cluster = self._cluster(members, plan)
        for member in members:
            assignment = plan[member]
            member._standby = set(assignment.standby)
            member._last_active, member._last_standby = assignment.active, assignment.standby
            member._set_assignment(assignment.active | assignment.standby)
            member._cluster = cluster
        await asyncio.gather(
            *(member._assigned(plan[member].active | plan[member].standby) for member in members)
        )

    def _plan(self, members: Sequence[MemoryConsumer]) -> dict[MemoryConsumer, Assignment]:
        """The group's plan, by the first member's partition assignor (as Kafka's group
        leader does): co-partitioned topics together, sticky, with table standbys."""
        names = {name for member in members for name in member._topics}
        names.update(
            name for name in self.broker.topics for member in members if member.matches(name)
        )
        partitions: dict[str, int] = {}
        for name in sorted(names):
            eligible = [member for member in members if member.matches(name)]
            partitions[name] = len(self.broker.topic(name, eligible[0]._topic_partitions).logs)
        keys = {member: f"{index:06d}-{member.client_id}" for index, member in enumerate(members)}
        subscriptions = {
            keys[member]: MemberSubscription(
                topics=frozenset(name for name in partitions if member.matches(name)),
                active=frozenset(member._last_active),
                standby=frozenset(member._last_standby),
            )
            for member in members
        }
        changelogs = set().union(*(member._changelogs() for member in members))
        if not members:
            return {}
        leader = members[0]
        assignor = leader._assignor() if leader._assignor is not None else PartitionAssignor()
        result = assignor.assign(subscriptions, partitions, changelogs)
        return {member: result[keys[member]] for member in members}

    def _cluster(
        self, members: Sequence[MemoryConsumer], plan: Mapping[MemoryConsumer, Assignment]
    ) -> ClusterMap:
        """The plan by the URL each member advertises: every member is given all of it."""
        keys = {member: f"{index:06d}-{member.client_id}" for index, member in enumerate(members)}
        topics = {tp.topic for a in plan.values() for tp in (*a.active, *a.standby)}
        return map_cluster(
            {keys[m]: MemberSubscription(topics=m._topics, url=m._url()) for m in members},
            {keys[m]: plan[m] for m in members},
            {name: len(self.broker.topics[name].logs) for name in topics},
            set().union(*(member._changelogs() for member in members)),
        )


# -- clients -------------------------------------------------------------------------------------


class _Completed(Generic[T]):
    """An awaitable that is already done: what a send to the memory broker returns."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, T]:
        yield from ()
        return self._value

    def __repr__(self) -> str:
        return f"<completed {self._value!r}>"


class MemoryProducer:
    """Appends each record to its partition's log during :meth:`send`, in call order.

    A record larger than ``max_request_size`` (counted as Kafka's producer counts it) is
    refused as Kafka refuses it, so that what works here does not fail on Kafka.
    """

    def __init__(
        self,
        broker: MemoryBroker,
        *,
        client_id: str,
        topic_partitions: Callable[[], int],
        transactional_id: str | None = None,
        changelogs: Callable[[], set[str]] = set,
        faults: FaultPlan | None = None,
        max_request_size: int = 1_000_000,
    ) -> None:
        self.client_id = client_id
        self.transactional_id = transactional_id
        self.max_request_size = max_request_size
        self._broker = broker
        self._topic_partitions = topic_partitions
        self._changelogs = changelogs
        self._faults = faults
        self._state = "new"
        #: Records of the open transaction, appended to their logs only when it commits.
        self._transaction: list[tuple[ProducerRecord, asyncio.Future[RecordMetadata]]] | None = None

    async def start(self) -> None:
        if self._state == "stopped":
            raise TransportError(f"producer {self.client_id!r} is stopped and cannot restart")
        self._state = "started"

    async def stop(self) -> None:
        self._state = "stopped"

    async def send(self, record: ProducerRecord) -> Awaitable[RecordMetadata]:
        if self._state != "started":
            raise TransportError(f"producer {self.client_id!r} is not started; cannot send")
        size = record_size(record.key, record.value, record.headers)
        if size > self.max_request_size:
            raise RecordTooLargeError(
                f"a record for {record.topic}[{record.partition}] is {size} bytes, more than "
                f"producer_max_request_size ({self.max_request_size})"
            )
        faults = self._faults
        if faults is not None:
            faults.check_alive()
        topic = self._broker.topics.get(record.topic)
        if topic is None:
            topic = self._broker.topic(record.topic, self._topic_partitions)
        if self._transaction is not None:
            topic.log(record.partition)  # a bad partition fails now, not at the commit
            future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
            self._transaction.append((record, future))
            if faults is not None:
                self._inject(faults, record)
            return future
        if self.transactional_id is not None:
            raise TransportError(
                f"producer {self.client_id!r} is transactional: begin a transaction to send"
            )
        appended = _Completed(topic.append(record))
        if faults is not None:
            self._inject(faults, record)
        return appended

    def _inject(self, faults: FaultPlan, record: ProducerRecord) -> None:
        """Die after this record if the plan says so (it is on the broker, or in the open
        transaction that will never commit)."""
        if record.topic not in self._changelogs():
            return
        cut = Cut.SEAL if record.key == SEAL_KEY else Cut.CHANGELOG_RECORD
        if faults.take(cut):
            raise faults.kill()

    async def begin_transaction(self) -> None:
        if self._faults is not None:
            self._faults.check_alive()
        if self.transactional_id is None:
            raise TransportError(f"producer {self.client_id!r} has no transactional id")
        if self._transaction is not None:
            raise TransportError(f"producer {self.client_id!r}: a transaction is already open")
        self._transaction = []

    async def commit_transaction(self, offsets: Mapping[TP, int], group_id: str) -> None:
        """Append the transaction's records and commit the offsets, in one step."""
        faults = self._faults
        if faults is not None:
            faults.check_alive()
            if faults.take(Cut.BEFORE_COMMIT):
                raise faults.kill()
        records, self._transaction = self._transaction, None
        if records is None:
            raise TransportError(f"producer {self.client_id!r}: no transaction is open")
        for record, future in records:
            future.set_result(self._broker.topics[record.topic].append(record))
        self._broker.group(group_id).committed.update(offsets)
        if faults is not None and faults.take(Cut.AFTER_COMMIT):
            raise faults.kill()

    async def abort_transaction(self) -> None:
        records, self._transaction = self._transaction, None
        for _, future in records or ():
            future.set_exception(TransportError("the transaction was aborted"))

    async def flush(self) -> None:
        """Nothing is ever queued: every record is in its log when ``send`` returns."""
        if self._faults is not None:
            self._faults.check_alive()

    async def partitions_for(self, topic: str) -> int:
        return len(self._broker.topic(topic, self._topic_partitions).logs)


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
        self._watched: list[_Topic] = []  # topics of the assignment, to wait on
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

    async def beginning_offsets(self, tps: Iterable[TP]) -> dict[TP, int]:
        result: dict[TP, int] = {}
        for tp in tps:
            self._broker.log(tp)  # an unknown partition is an error, as for end_offsets
            result[tp] = 0
        return result


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class MemoryAdmin:
    def __init__(self, broker: MemoryBroker) -> None:
        self._broker = broker

    async def create_topic(self, spec: TopicSpec) -> bool:
        return self._broker.create_topic(spec)

    async def partition_count(self, topic: str) -> int | None:
        found = self._broker.topics.get(topic)
        return None if found is None else len(found.logs)

    async def creates_topics_on_use(self) -> bool:
        return True


class MemoryTransport:
    """The transport plugin's factory: ``MemoryTransport(context=..., urls=['memory://'])``,
    the context a :class:`strm.kernel.contexts.TransportContext`."""

    def __init__(self, *, context: TransportContext, urls: Sequence[str], **_: Any) -> None:
        if not urls:
            raise ConfigurationError("the memory transport needs a URL such as 'memory://'")
        keys = {broker_key(url) for url in urls}
        if len(keys) > 1:
            raise ConfigurationError(
                f"the memory transport takes one broker, got URLs of {len(keys)}: "
                f"{[redact_url(url) for url in urls]!r}"
            )
        self.context = context
        self.url = urls[0]
        self.broker = get_broker(self.url)
        #: Where to kill this worker (tests; strm.testing.faults); set before the app starts.
        self.faults: FaultPlan | None = None

    def _topic_partitions(self) -> int:
        partitions: int = self.context.conf.topic_partitions
        return partitions

    def create_consumer(self, *, group_id: str, client_id: str) -> MemoryConsumer:
        return MemoryConsumer(
            self.broker,
            group_id=group_id,
            client_id=client_id,
            auto_offset_reset=self.context.conf.consumer_auto_offset_reset,
            topic_partitions=self._topic_partitions,
            assignor=self.context.assignor,
            changelogs=self.context.changelog_topics,
            faults=self.faults,
            url=self.context.advertised_url,
        )

    def create_producer(
        self, *, client_id: str, transactional_id: str | None = None
    ) -> MemoryProducer:
        return MemoryProducer(
            self.broker,
            client_id=client_id,
            topic_partitions=self._topic_partitions,
            transactional_id=transactional_id,
            changelogs=self.context.changelog_topics,
            faults=self.faults,
            max_request_size=self.context.conf.producer_max_request_size,
        )

    def create_admin(self) -> MemoryAdmin:
        return MemoryAdmin(self.broker)


@hookimpl
def strm_transports() -> list[Provision]:
    return [
        records.transport(
            SCHEME,
            MemoryTransport,
            description="in-process broker: topics, offsets and consumer groups, not persistent",
        )
    ]


__all__ = [
    "MAX_RECORDS_PER_FETCH",
    "MemoryAdmin",
    "MemoryBroker",
    "MemoryConsumer",
    "MemoryProducer",
    "MemoryTransport",
    "broker_key",
    "drop_broker",
    "get_broker",
    "unique_url",
]
