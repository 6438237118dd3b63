"""The producer: :class:`strm.kernel.spi.Producer` on ``aiokafka.AIOKafkaProducer``.

``send`` returns once aiokafka has queued the record, with an awaitable of its
:class:`strm.kernel.spi.RecordMetadata`. A record that cannot be delivered also makes the next
:meth:`KafkaProducer.flush` raise, so a checkpoint never commits offsets past a lost send even
when nobody awaits the delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError, MessageSizeTooLargeError  # type: ignore[import-untyped]
from aiokafka.structs import TopicPartition  # type: ignore[import-untyped]
from strm.kernel.spi import TP, ProducerRecord, RecordMetadata
from strm.kernel.transports import RecordTooLargeError, TransportError
from strm.kernel.transports.record_size import record_size, within

from strm_transport_kafka.connect import describe, start_client

logger = logging.getLogger("strm_transport_kafka")

#: aiokafka's ``timestamp_type`` of a record whose timestamp the producer set (CreateTime).
CREATE_TIME = 0


class Delivery:
    """Completes with the record's :class:`strm.kernel.spi.RecordMetadata` once the broker has it.

    The timestamp is the one sent (aiokafka reports the batch's first timestamp for every
    record of a batch), or the broker's when the topic uses LogAppendTime. With
    ``producer_acks=0`` the broker does not answer, and the offset is -1.
    """

    __slots__ = ("_future", "_last", "_timestamp_ms", "_tp")

    def __init__(
        self, future: asyncio.Future[Any], tp: TP, timestamp_ms: int, last: int = 0
    ) -> None:
        self._future = future
        self._tp = tp
        self._timestamp_ms = timestamp_ms
        #: For a record batch: the last record's place in it (aiokafka gives the first's offset).
        self._last = last

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        try:
            metadata = yield from self._future.__await__()
        except KafkaError as exc:
            error = (
                RecordTooLargeError if isinstance(exc, MessageSizeTooLargeError) else TransportError
            )
            raise error(
                f"a record for {self._tp.topic}[{self._tp.partition}] was not delivered: "
                f"{describe(exc)}"
            ) from exc
        tp = self._tp
        if metadata is None:  # producer_acks=0: the broker does not say where it landed
            return RecordMetadata(tp.topic, tp.partition, -1, self._timestamp_ms / 1000)
        timestamp = (
            self._timestamp_ms if metadata.timestamp_type == CREATE_TIME else metadata.timestamp
        )
        return RecordMetadata(
            tp.topic, tp.partition, metadata.offset + self._last, timestamp / 1000
        )

    def __repr__(self) -> str:
        return f"<Delivery to {self._tp.topic}[{self._tp.partition}] {self._future!r}>"


class KafkaProducer:
    """Sends records through one aiokafka producer, created by :meth:`start`."""

    def __init__(
        self,
        *,
        servers: Sequence[str],
        options: dict[str, Any],
        start_timeout: float,
        headers: bool = True,
    ) -> None:
        self.client_id: str = options["client_id"]
        self.servers = list(servers)
        self._options = options
        self._start_timeout = start_timeout
        self._headers = headers
        self._client: Any = None
        self._state = "new"
        self._failures: list[BaseException] = []
        self._tps: dict[tuple[str, int], TP] = {}

    def __repr__(self) -> str:
        return f"<KafkaProducer {self.client_id!r} on {','.join(self.servers)} ({self._state})>"

    def _where(self) -> str:
        return f"producer {self.client_id!r} on {','.join(self.servers)}"

    async def start(self) -> None:
        if self._state == "started":
            return
        if self._state == "stopped":
            raise TransportError(f"{self._where()} is stopped and cannot restart")
        client = self._client = AIOKafkaProducer(bootstrap_servers=self.servers, **self._options)
        try:
            await start_client(
                client.start,
                client.stop,
                servers=self.servers,
                options=self._options,
                timeout=self._start_timeout,
                what="producer",
            )
        except BaseException:
            self._state = "stopped"
            raise
        self._state = "started"

    async def stop(self) -> None:
        """Deliver what is queued, then close; a record that could not be delivered is raised
        after the producer is closed."""
        if self._state != "started":
            self._state = "stopped"
            return
        self._state = "stopping"
        try:
            await self._client.flush()
        finally:
            self._state = "stopped"
            try:
                await self._client.stop()
            except KafkaError as exc:
                logger.warning("stopping %r: %s", self, describe(exc))
        self._raise_failures()

    async def send(self, record: ProducerRecord) -> Delivery:
        if self._state != "started":
            raise TransportError(f"{self._where()} is not started; cannot send")
        topic = record.topic
        partition = record.partition
        if record.key is None and record.value is None:
            raise TransportError(
                f"a record for {topic}[{partition}] needs a key or a value (both are None)"
            )
        timestamp_ms = (
            int(time.time() * 1000) if record.timestamp is None else round(record.timestamp * 1000)
        )
        headers = record.headers
        if headers and type(headers) is not list:  # aiokafka's record builder takes only a list
            headers = list(headers)
        try:
            future = await self._client.send(
                topic,
                record.value,
                record.key,
                partition,
                timestamp_ms,
                headers if self._headers else None,
            )
        except AssertionError:
            raise TransportError(self._no_partition(topic, partition)) from None
        except MessageSizeTooLargeError as exc:
            raise RecordTooLargeError(
                f"a record for {topic}[{partition}] is larger than producer_max_request_size: "
                f"{describe(exc)}"
            ) from exc
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()} cannot send to {topic}[{partition}]: {describe(exc)}"
            ) from exc
        future.add_done_callback(self._delivered)
        tp = self._tps.get((topic, partition))
        if tp is None:
            tp = self._tps[(topic, partition)] = TP(topic, partition)
        return Delivery(future, tp, timestamp_ms)

    async def send_batch(
        self, topic: str, partition: int, records: Sequence[tuple[bytes | None, bytes | None]]
    ) -> Delivery:
        """aiokafka's batch interface: the records fill record batches of
        ``producer_max_batch_size`` (one compression run each, with
        ``producer_compression_type``), each queued whole; the delivery is the last batch's."""
        if self._state != "started":
            raise TransportError(f"{self._where()} is not started; cannot send")
        limit = self._options.get("max_request_size", 1_048_576)
        for key, value in records:
            if key is None and value is None:
                raise TransportError(
                    f"a record for {topic}[{partition}] needs a key or a value (both are None)"
                )
            if not within(limit, key, value, ()) and record_size(key, value, ()) > limit:
                raise RecordTooLargeError(
                    f"a record for {topic}[{partition}] is larger than "
                    f"producer_max_request_size ({limit} bytes)"
                )
        client = self._client
        timestamp_ms = int(time.time() * 1000)
        futures: list[asyncio.Future[Any]] = []
        batch = client.create_batch()
        for key, value in records:
            if batch.append(key=key, value=value, timestamp=timestamp_ms) is None:
                futures.append(await self._queue_batch(batch, topic, partition))
                batch = client.create_batch()
                if batch.append(key=key, value=value, timestamp=timestamp_ms) is None:
                    raise TransportError(  # aiokafka takes any first record: never drop one
                        f"{self._where()} could not start a record batch for {topic}[{partition}]"
                    )
        last = batch.record_count() - 1
        futures.append(await self._queue_batch(batch, topic, partition))
        for future in futures:
            future.add_done_callback(self._delivered)
        tp = self._tps.get((topic, partition))
        if tp is None:
            tp = self._tps[(topic, partition)] = TP(topic, partition)
        done = futures[0] if len(futures) == 1 else asyncio.ensure_future(_all_of(futures))
        return Delivery(done, tp, timestamp_ms, last)

    async def _queue_batch(self, batch: Any, topic: str, partition: int) -> asyncio.Future[Any]:
        batch.close()
        try:
            future: asyncio.Future[Any] = await self._client.send_batch(
                batch, topic, partition=partition
            )
        except AssertionError:
            raise TransportError(self._no_partition(topic, partition)) from None
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()} cannot send to {topic}[{partition}]: {describe(exc)}"
            ) from exc
        return future

    def _no_partition(self, topic: str, partition: int) -> str:
        known = self._client.client.cluster.partitions_for_topic(topic)
        count = "an unknown number of" if not known else str(len(known))
        return f"{topic}[{partition}] does not exist: topic {topic!r} has {count} partitions"

    def _delivered(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._failures.append(future.exception())  # type: ignore[arg-type]

    def _raise_failures(self) -> None:
        if self._failures:
            failures, self._failures = self._failures, []
            raise TransportError(
                f"{len(failures)} record(s) sent by {self._where()} were not delivered; the "
                f"first: {describe(failures[0])}"
            ) from failures[0]

    async def flush(self) -> None:
        """Wait until every record queued so far is delivered or has failed; raise if any
        failed since the last flush."""
        if self._state != "started":
            raise TransportError(f"{self._where()} is not started; cannot flush")
        await self._client.flush()
        self._raise_failures()

    async def partitions_for(self, topic: str) -> int:
        """The partition count of ``topic``, from the cluster's metadata; a topic that does
        not exist is created by the broker when it creates topics on first use."""
        if self._state != "started":
            raise TransportError(f"{self._where()} is not started")
        try:
            partitions = await self._client.partitions_for(topic)
        except KafkaError as exc:
            raise TransportError(
                f"no partitions of topic {topic!r} on {','.join(self.servers)}: {describe(exc)} "
                "(does the topic exist, and may the broker create it?)"
            ) from exc
        return len(partitions)


__all__ = ["Delivery", "KafkaProducer"]


class KafkaTransactionalProducer(KafkaProducer):
    """A producer with a transactional id: what ``processing_guarantee='exactly_once'``
    uses. Records sent between :meth:`begin_transaction` and :meth:`commit_transaction` become
    visible to ``read_committed`` consumers together with the group's offsets, or never; a new
    producer with the same transactional id aborts what an old one left open."""

    async def begin_transaction(self) -> None:
        try:
            await self._client.begin_transaction()
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()}: cannot begin a transaction: {describe(exc)}"
            ) from exc

    async def commit_transaction(self, offsets: Mapping[TP, int], group_id: str) -> None:
        try:
            if offsets:
                await self._client.send_offsets_to_transaction(
                    {
                        TopicPartition(tp.topic, tp.partition): offset
                        for tp, offset in offsets.items()
                    },
                    group_id,
                )
            await self._client.commit_transaction()
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()}: the transaction could not be committed: {describe(exc)}"
            ) from exc
        self._raise_failures()

    async def abort_transaction(self) -> None:
        try:
            await self._client.abort_transaction()
        except KafkaError as exc:
            raise TransportError(
                f"{self._where()}: the transaction could not be aborted: {describe(exc)}"
            ) from exc


async def _all_of(futures: list[asyncio.Future[Any]]) -> Any:
    """The last batch's metadata once every batch is delivered, or the first failure: a later
    batch delivered says nothing of an earlier one when the producer retries out of order."""
    metadata = None
    for future in futures:
        metadata = await future
    return metadata
