"""The in-process brokers: a registry by URL, the topics' logs, and the consumer groups with
their eager rebalances (:mod:`strm.builtins.memory_transport`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from strm.kernel.assignor import (
    Assignment,
    ClusterMap,
    MemberSubscription,
    PartitionAssignor,
    map_cluster,
)
from strm.kernel.errors import ConfigurationError
from strm.kernel.redaction import redact_url
from strm.kernel.spi import (
    TP,
    Message,
    ProducerRecord,
    RecordMetadata,
    TopicSpec,
)
from strm.kernel.transports import (
    TransportError,
)

if TYPE_CHECKING:
    from strm.builtins.memory_transport.consumer import MemoryConsumer


SCHEME = "memory"

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


class TopicLog:
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
        self.topics: dict[str, TopicLog] = {}
        self.groups: dict[str, Group] = {}

    def __repr__(self) -> str:
        return f"<MemoryBroker {redact_url(self.key)!r}: {len(self.topics)} topics>"

    def create_topic(self, spec: TopicSpec) -> bool:
        if spec.partitions < 1:
            raise ValueError(
                f"topic {spec.name!r} needs at least one partition, got {spec.partitions}"
            )
        if spec.name in self.topics:
            return False
        self.topics[spec.name] = TopicLog(spec)
        for group in self.groups.values():
            group.topic_created(spec.name)
        return True

    def topic(self, name: str, partitions: Callable[[], int]) -> TopicLog:
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

    def group(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = Group(self, group_id)
        return group


# -- consumer groups -----------------------------------------------------------------------------


class Group:
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
