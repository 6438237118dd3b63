"""One object per fetched record: aiokafka makes strm's ``Message`` itself (:mod:`.fetched`),
only for strm's consumer, and the per-batch conversion still gives the same messages where the
direct path is not taken."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.structs import ConsumerRecord  # type: ignore[import-untyped]
from strm.kernel.spi import TP, Message, ProducerRecord, TopicSpec
from strm.testing.contracts.transport import RecordingListener
from strm_transport_kafka import KafkaTransport
from strm_transport_kafka import consumer as consumer_module

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

RECORDS = [
    ProducerRecord("", 0, b"k1", b"v1", timestamp=1_700_000_000.25),
    ProducerRecord("", 0, None, b"no key", timestamp=1_700_000_001.5),
    ProducerRecord("", 0, b"tombstone", None, timestamp=1_700_000_002.0),
    ProducerRecord("", 0, b"k2", b"v2", timestamp=1_700_000_003.0, headers=(("h", b"1"),)),
]


async def fetch_all(
    transport: KafkaTransport, topic: str, group: str, direct: bool
) -> tuple[bool, list[Message]]:
    consumer = transport.create_consumer(group_id=group, client_id=f"records-{direct}")
    consumer.subscribe([topic], RecordingListener("c", []))
    await consumer.start()
    try:
        got: list[Message] = []
        for _ in range(30):  # bounded: one or two fetches do
            got += (await consumer.getmany(1.0)).get(TP(topic, 0), [])
            if len(got) >= len(RECORDS):
                break
        return consumer.messages_direct, got
    finally:
        await consumer.stop()


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "converted"])
async def test_fetched_records_are_messages_with_and_without_the_direct_path(
    kafka_transport: Callable[..., KafkaTransport],
    kafka_bootstrap: str,
    unique: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    direct: bool,
) -> None:
    if not direct:  # as with an aiokafka whose internals differ
        monkeypatch.setattr(consumer_module, "make_messages_directly", lambda client: False)
    transport = kafka_transport()
    topic = unique("records")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="records-producer")
    await producer.start()
    try:
        for record in RECORDS:
            record.topic = topic
            await producer.send(record)
        await producer.flush()
    finally:
        await producer.stop()

    taken, got = await fetch_all(transport, topic, unique("g"), direct)

    assert taken is direct  # the direct path is taken with the installed aiokafka
    assert all(type(message) is Message for message in got)
    assert got == [
        Message(topic, 0, offset, r.timestamp or 0.0, r.key, r.value, r.headers)
        for offset, r in enumerate(RECORDS)
    ]
    # aiokafka itself is unchanged: another consumer of the process gets its own records
    plain = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await plain.start()
    try:
        plain.assign([TopicPartition(topic, 0)])
        fetched = await plain.getmany(timeout_ms=5000)
        records = [record for batch in fetched.values() for record in batch]
        assert records and all(type(record) is ConsumerRecord for record in records)
    finally:
        await plain.stop()
