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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from strm.builtins.memory_transport.broker import (
    SCHEME,
    MemoryBroker,
    broker_key,
    drop_broker,
    get_broker,
    unique_url,
)
from strm.builtins.memory_transport.consumer import MAX_RECORDS_PER_FETCH, MemoryConsumer
from strm.builtins.memory_transport.producer import MemoryProducer
from strm.kernel import records
from strm.kernel.errors import ConfigurationError
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision
from strm.kernel.redaction import redact_url
from strm.kernel.spi import TopicSpec
from strm.testing.faults import FaultPlan

if TYPE_CHECKING:
    from strm.kernel.contexts import TransportContext


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
