"""``KafkaProducer.send_batch``: a checkpoint's changelog records of one partition, queued as
aiokafka record batches in one call, land in order, and their delivery reports the last
record only once every batch is on the broker."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from strm.kernel.spi import TP, TopicSpec
from strm.kernel.transports import RecordTooLargeError, TransportError
from strm.testing.contracts.transport import RecordingListener
from strm_transport_kafka import KafkaTransport

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def _read(transport: KafkaTransport, topic: str, count: int, group: str) -> list[object]:
    consumer = transport.create_consumer(group_id=group, client_id="reader")
    consumer.subscribe([topic], RecordingListener("c", []))
    await consumer.start()
    messages: list[object] = []
    try:
        for _ in range(100):
            messages += (await consumer.getmany(0.5)).get(TP(topic, 0), [])
            if len(messages) >= count:
                break
    finally:
        await consumer.stop()
    return messages


async def test_records_fill_many_compressed_batches_and_land_in_order(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(producer_max_batch_size=4096, producer_compression_type="gzip")
    topic = unique("batch-send")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="p")
    await producer.start()
    records = [(f"k{i}".encode(), f"value {i:05d} ".encode() * 4) for i in range(2000)]
    before = time.time()
    try:
        first = await producer.send_batch(topic, 0, records)
        second = await producer.send_batch(topic, 0, [(b"last", None)])
        await producer.flush()
        assert ((await first).tp, (await first).offset) == (TP(topic, 0), 1999)
        assert (await second).offset == 2000
    finally:
        await producer.stop()
    messages = await _read(transport, topic, 2001, unique("g"))
    assert [(m.key, m.value) for m in messages] == [*records, (b"last", None)]  # type: ignore[attr-defined]
    stamps = {m.timestamp for m in messages}  # type: ignore[attr-defined]
    assert all(before - 1 <= stamp <= time.time() + 1 for stamp in stamps)


async def test_a_record_over_the_request_size_is_refused_before_any_is_queued(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(producer_max_request_size=10_000)
    topic = unique("batch-too-large")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="p")
    await producer.start()
    try:
        with pytest.raises(RecordTooLargeError, match=rf"{topic}\[0\].*producer_max_request_size"):
            await producer.send_batch(topic, 0, [(b"a", b"small"), (b"b", b"x" * 20_000)])
        with pytest.raises(TransportError, match="needs a key or a value"):
            await producer.send_batch(topic, 0, [(None, None)])
        delivery = await producer.send_batch(topic, 0, [(b"c", b"after")])
        await producer.flush()
        assert (await delivery).offset == 0  # nothing of the refused calls reached the broker
    finally:
        await producer.stop()


async def test_the_delivery_fails_when_an_earlier_batch_is_refused(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    """The broker refuses the first record batch (over the topic's ``max.message.bytes``) and
    takes the second: the delivery, which reports the last record, must fail all the same,
    or a checkpoint would commit offsets past changelog records that were lost."""
    transport = kafka_transport(producer_max_batch_size=6000)
    topic = unique("batch-refused")
    await transport.create_admin().create_topic(
        TopicSpec(topic, 1, config={"max.message.bytes": "2000"})
    )
    producer = transport.create_producer(client_id="p")
    await producer.start()
    try:
        delivery = await producer.send_batch(topic, 0, [(b"big", b"x" * 5500), (b"s", b"y" * 900)])
        with pytest.raises(TransportError, match=rf"a record for {topic}\[0\] was not delivered"):
            await delivery
        with pytest.raises(TransportError, match="not"):
            await producer.flush()
    finally:
        await producer.stop()
    assert [m.key for m in await _read(transport, topic, 1, unique("g"))] == [b"s"]  # type: ignore[attr-defined]
