"""The ``memory://`` producer: appends to the broker's logs at once, or at a transaction's
commit (:mod:`strm.builtins.memory_transport`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from strm.builtins.memory_transport.broker import MemoryBroker
from strm.kernel.spi import (
    TP,
    ProducerRecord,
    RecordMetadata,
)
from strm.kernel.transports import (
    RecordTooLargeError,
    TransportError,
)
from strm.kernel.transports.record_size import record_size, within
from strm.runtime.seals import SEAL_KEY
from strm.testing.faults import Cut, FaultPlan

if TYPE_CHECKING:
    pass


T = TypeVar("T")


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
        limit = self.max_request_size
        if (
            not within(limit, record.key, record.value, record.headers)
            and (size := record_size(record.key, record.value, record.headers)) > limit
        ):
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

    async def send_batch(
        self, topic: str, partition: int, records: Sequence[tuple[bytes | None, bytes | None]]
    ) -> Awaitable[RecordMetadata]:
        """Each record through :meth:`send`, in order, so that a fault plan can still cut the
        checkpoint after any one of them."""
        delivery: Awaitable[RecordMetadata] | None = None
        for key, value in records:
            delivery = await self.send(ProducerRecord(topic, partition, key, value))
        assert delivery is not None, "send_batch() of no records"
        return delivery

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
