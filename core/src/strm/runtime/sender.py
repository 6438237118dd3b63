"""The producing side of an app: partition choice, held sends, flushing at checkpoints.

Records are handed to the transport's producer as soon as they are sent (it batches them);
a checkpoint flushes the producer before offsets are committed, so everything an event sent is
on the broker before that event counts as done — without a future per send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import (
    TP,
    BatchProducer,
    Headers,
    Producer,
    ProducerRecord,
    RecordMetadata,
    TransactionalProducer,
)
from strm.runtime.snapshots import TransactionSeal

if TYPE_CHECKING:
    from collections import Counter

    from strm.kernel.app_protocol import AppLike

Partitioner = Callable[[bytes | None, list[int], list[int]], int]


def normalize_headers(headers: Mapping[str, Any] | Headers | None) -> Headers:
    """Headers as a sequence of ``(str, bytes)``; ``str`` values are UTF-8 encoded."""
    if not headers:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, bytes]] = []
    for name, value in items:
        if isinstance(value, str):
            value = value.encode()
        elif not isinstance(value, bytes):
            raise TypeError(f"header {name!r} must be bytes or str, not {type(value).__name__}")
        out.append((name, value))
    return out


class Sender:
    """Turns ``send`` calls into producer records; owned by the app, created on first use."""

    def __init__(
        self,
        app: AppLike,
        producer: Producer,
        partitioner: Partitioner,
        seal: TransactionSeal,
    ) -> None:
        self.app = app
        self.producer = producer
        self.partitioner = partitioner
        self._partition_counts: dict[str, list[int]] = {}
        #: Records sent by topic; the app's, so the count outlives one producer.
        self.sent_by_topic: Counter[str] = app.sent_counts
        self._held: list[tuple[Any, int, ProducerRecord, asyncio.Future[RecordMetadata]]] = []
        self.hold_until_commit = bool(app.conf.stream_publish_on_commit)
        #: With exactly-once, sends go into a transaction that the next checkpoint commits.
        self.transactional = app.exactly_once and isinstance(producer, TransactionalProducer)
        #: The producer when it takes a partition's records in one call (``send_batch``).
        self._batching = producer if isinstance(producer, BatchProducer) else None
        self.in_transaction = False
        #: Keeps the transaction to a snapshot's sends while its checkpoint commits.
        self.seal = seal
        #: A begin or a commit under way: sends wait for it, then join or begin a transaction.
        self._changing: asyncio.Future[None] | None = None
        #: Transactional sends inside the producer's ``send`` (a commit waits for them).
        self._sending = 0
        self._sends_done: asyncio.Future[None] | None = None
        self._produce_signal = app.on_produce_message
        self._tracer = app.sensors.event_tracer
        #: ``[records, bytes]`` by ``(topic, partition)`` since the last flush: the sensors'
        #: ``on_send_batch`` (a plain tuple key and a list: the cheapest count per record),
        #: kept only while a sensor wants it (asked again at each flush).
        self._unflushed: dict[tuple[str, int], list[int]] = {}
        self._counting = app.sensors.wants("on_send_batch")

    async def partitions(self, topic: str) -> list[int]:
        partitions = self._partition_counts.get(topic)
        if partitions is None:
            count = await self.producer.partitions_for(topic)
            partitions = self._partition_counts[topic] = list(range(count))
        return partitions

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers = (),
        source: tuple[Any, int] | None = None,
    ) -> Awaitable[RecordMetadata]:
        """Queue one record. ``source`` is the (partition, offset) of the event being processed,
        used by ``stream_publish_on_commit`` to hold the record until that offset commits."""
        if partition is None:
            partitions = await self.partitions(topic)
            partition = self.partitioner(key, partitions, partitions)
        if self._tracer is not None:
            headers = self._tracer.headers_out(topic, headers)
        record = ProducerRecord(topic, partition, key, value, timestamp, headers)
        self.sent_by_topic[topic] += 1
        if self._counting:
            counts = self._unflushed.get((topic, partition))
            if counts is None:
                counts = self._unflushed[topic, partition] = [0, 0]
            counts[0] += 1
            counts[1] += (len(key) if key else 0) + (len(value) if value else 0)
        if self._produce_signal.has_receivers:  # Faust's on_produce_message
            self._produce_signal.send_supervised(
                key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
            )
        if self.hold_until_commit and source is not None:
            future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
            self._held.append((source[0], source[1], record, future))
            return future
        try:
            if self.transactional:
                return await self._in_transaction(lambda: self.producer.send(record))
            return await self.producer.send(record)
        except Exception as exc:
            self.app.sensors.on_send_failed(topic, 1, exc)
            raise

    async def send_batch(
        self, topic: str, partition: int, records: list[tuple[bytes | None, bytes | None]]
    ) -> Awaitable[RecordMetadata]:
        """Queue records of one partition together (a checkpoint's changelog records of a
        table partition): one call to a producer that takes batches, else :meth:`send` each;
        the result completes when the broker has them all. A sensor tracing each record or a
        receiver of ``on_produce_message`` sees each one, so then they go one by one."""
        batching = self._batching
        if batching is None or self._tracer is not None or self._produce_signal.has_receivers:
            delivery: Awaitable[RecordMetadata] | None = None
            for key, value in records:
                delivery = await self.send(topic, key, value, partition=partition)
            assert delivery is not None, "send_batch() of no records"
            return delivery
        count = len(records)
        self.sent_by_topic[topic] += count
        if self._counting:
            counts = self._unflushed.get((topic, partition))
            if counts is None:
                counts = self._unflushed[topic, partition] = [0, 0]
            counts[0] += count
            counts[1] += sum(len(key or b"") + len(value or b"") for key, value in records)
        try:
            if self.transactional:
                return await self._in_transaction(
                    lambda: batching.send_batch(topic, partition, records)
                )
            return await batching.send_batch(topic, partition, records)
        except Exception as exc:
            self.app.sensors.on_send_failed(topic, count, exc)
            raise

    async def _in_transaction(
        self, send: Callable[[], Awaitable[Awaitable[RecordMetadata]]]
    ) -> Awaitable[RecordMetadata]:
        """Send into the open transaction, beginning one if none is; a commit under way (or a
        transaction sealed to a snapshot this send is not of) is waited for, so that the
        records go into the transaction of their own checkpoint interval, never into none."""
        if self.seal.sealed is not None:
            await self.seal.admit()
        while not self.in_transaction:
            await self._begin()
        self._sending += 1
        try:
            return await send()
        finally:
            self._sending -= 1
            if not self._sending and self._sends_done is not None:
                self._sends_done.set_result(None)
                self._sends_done = None

    async def publish_held(self, committable: Mapping[Any, int]) -> None:
        """Publish held records whose source offset is about to be committed."""
        if not self._held:
            return
        keep = []
        for tp, offset, record, future in self._held:
            next_offset = committable.get(tp)
            if next_offset is not None and offset < next_offset:
                if self.transactional:
                    delivery = await self._in_transaction(partial(self.producer.send, record))
                else:
                    delivery = await self.producer.send(record)
                self.app.runtime.spawn(_relay(delivery, future), name="strm-held-send")
            else:
                keep.append((tp, offset, record, future))
        self._held = keep

    def forget_held(self, tps: set[Any]) -> None:
        """Drop records held for revoked partitions: their events will be processed again."""
        kept = []
        for entry in self._held:
            if entry[0] in tps:
                entry[3].cancel()
            else:
                kept.append(entry)
        self._held = kept

    async def flush(self) -> None:
        """Wait until the broker has every record sent so far; tell the sensors how many went
        to each partition, and how long the wait was (``on_send_batch``)."""
        sent, self._unflushed = self._unflushed, {}
        self._counting = self.app.sensors.wants("on_send_batch")
        started = time.monotonic()
        try:
            await self.producer.flush()
        except Exception as exc:
            by_topic: dict[str, int] = {}
            for (topic, _), (count, _) in sent.items():
                by_topic[topic] = by_topic.get(topic, 0) + count
            for topic, count in by_topic.items():
                self.app.sensors.on_send_failed(topic, count, exc)
            raise
        if sent:
            self.app.sensors.on_send_batch(
                {TP(*tp): (count, nbytes) for tp, (count, nbytes) in sent.items()},
                time.monotonic() - started,
            )

    async def _begin(self) -> None:
        """Begin a transaction, one at a time: concurrent senders wait for the one begun (or
        for a commit under way) instead of beginning a second."""
        assert isinstance(self.producer, TransactionalProducer)
        changing = self._changing
        if changing is not None:
            await asyncio.shield(changing)
            return
        if self.in_transaction:
            return
        self._changing = asyncio.get_running_loop().create_future()
        try:
            await self.producer.begin_transaction()
            self.in_transaction = True
        finally:
            self._changed()

    def _changed(self) -> None:
        changing, self._changing = self._changing, None
        if changing is not None:
            changing.set_result(None)

    async def commit_transaction(self, offsets: Mapping[Any, int], group_id: str) -> None:
        """Commit everything sent since the last checkpoint with the source offsets. Sends
        already inside the producer finish first; sends that start meanwhile wait and go
        into the next transaction."""
        assert isinstance(self.producer, TransactionalProducer)
        while not self.in_transaction:
            await self._begin()
        while self._changing is not None:
            await asyncio.shield(self._changing)
        self.in_transaction = False
        self._changing = asyncio.get_running_loop().create_future()
        try:
            while self._sending:
                self._sends_done = self._sends_done or asyncio.get_running_loop().create_future()
                await asyncio.shield(self._sends_done)
            await self.producer.commit_transaction(offsets, group_id)
        finally:
            self._changed()


async def _relay(
    delivery: Awaitable[RecordMetadata], future: asyncio.Future[RecordMetadata]
) -> None:
    """Complete a held send's future when its real delivery completes."""
    try:
        future.set_result(await delivery)
    except Exception as exc:
        future.set_exception(exc)
