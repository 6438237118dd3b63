""":class:`strm.kernel.transports.threaded.ThreadedProducer`: a producer run on a thread and event
loop of its own, driven from the app's loop. The producer inside is a small implementation of
the Producer interface that completes each delivery on its own loop, a moment later, as a
network client would."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable

import pytest
from strm.kernel.spi import ProducerRecord, RecordMetadata
from strm.kernel.transports import TransportError
from strm.kernel.transports.threaded import ThreadedProducer


class LoopProducer:
    """Appends records to a log; a delivery completes on the next turn of the loop that sent
    it. Records whose value is ``b"lost"`` fail on delivery, ``b"refused"`` at the send."""

    def __init__(self) -> None:
        self.log: list[ProducerRecord] = []
        self.threads: set[str] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = self.stopped = False
        self.flushes = 0
        self.fail_start = False

    async def start(self) -> None:
        if self.fail_start:
            raise TransportError("cannot reach the brokers")
        self.loop = asyncio.get_running_loop()
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, record: ProducerRecord) -> Awaitable[RecordMetadata]:
        assert asyncio.get_running_loop() is self.loop
        self.threads.add(threading.current_thread().name)
        if record.value == b"refused":
            raise TransportError("record too large")
        offset = len(self.log)
        self.log.append(record)
        delivery: asyncio.Future[RecordMetadata] = self.loop.create_future()
        if record.value == b"lost":
            self.loop.call_soon(delivery.set_exception, TransportError("not delivered"))
        else:
            metadata = RecordMetadata(record.topic, record.partition, offset, 0.0)
            self.loop.call_soon(delivery.set_result, metadata)
        return delivery

    async def flush(self) -> None:
        self.flushes += 1
        await asyncio.sleep(0)

    async def partitions_for(self, topic: str) -> int:
        return 3


def record(value: bytes, partition: int = 0) -> ProducerRecord:
    return ProducerRecord("t", partition, None, value, None, ())


async def test_records_are_sent_in_order_on_the_thread_and_settled_on_the_caller() -> None:
    inner = LoopProducer()
    producer = ThreadedProducer(lambda: inner, name="strm-producer-test")
    await producer.start()
    try:
        assert inner.loop is not asyncio.get_running_loop()
        deliveries = [await producer.send(record(str(i).encode())) for i in range(500)]
        landed = await asyncio.gather(*deliveries)
        assert [m.offset for m in landed] == list(range(500))
        assert [r.value for r in inner.log] == [str(i).encode() for i in range(500)]
        assert inner.threads == {"strm-producer-test"}
        assert await producer.partitions_for("t") == 3
        assert "strm-producer-test" in {t.name for t in threading.enumerate()}
    finally:
        await producer.stop()
    assert inner.stopped
    assert "strm-producer-test" not in {t.name for t in threading.enumerate()}


async def test_flush_hands_everything_over_and_raises_a_lost_record_once() -> None:
    inner = LoopProducer()
    producer = ThreadedProducer(lambda: inner, name="strm-producer-flush")
    await producer.start()
    try:
        for i in range(100):
            await producer.send(record(str(i).encode()))
        await producer.flush()
        assert len(inner.log) == 100
        assert inner.flushes == 1

        lost = await producer.send(record(b"lost"))
        refused = await producer.send(record(b"refused"))
        kept = await producer.send(record(b"kept"))
        with pytest.raises(TransportError, match="not delivered"):
            await producer.flush()
        with pytest.raises(TransportError, match="not delivered"):
            await lost
        with pytest.raises(TransportError, match="record too large"):
            await refused
        assert (await kept).offset == 101
        await producer.flush()  # reported once
    finally:
        await producer.stop()


async def test_a_producer_that_cannot_start_raises_from_start() -> None:
    inner = LoopProducer()
    inner.fail_start = True
    producer = ThreadedProducer(lambda: inner, name="strm-producer-broken")
    with pytest.raises(TransportError, match="cannot reach"):
        await producer.start()
    assert "strm-producer-broken" not in {t.name for t in threading.enumerate()}
    with pytest.raises(TransportError, match="not started"):
        await producer.send(record(b"x"))


async def test_stop_sends_what_is_queued() -> None:
    inner = LoopProducer()
    producer = ThreadedProducer(lambda: inner, name="strm-producer-stop")
    await producer.start()
    deliveries = [await producer.send(record(b"%d" % i)) for i in range(50)]
    await producer.stop()
    assert len(inner.log) == 50
    assert all(d.done() for d in deliveries)  # type: ignore[attr-defined]
