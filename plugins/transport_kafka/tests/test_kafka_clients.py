"""The options built from the settings are the ones the real aiokafka clients run with, and
those clients work with them against the broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strm.kernel.spi import TP, ProducerRecord, TopicSpec
from strm.kernel.transports import TransportError
from strm.testing.contracts.transport import RecordingListener
from strm_transport_kafka import KafkaTransport
from strm_transport_kafka import consumer as consumer_module

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_started_clients_run_with_the_settings(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(
        broker_session_timeout=12.0,
        broker_heartbeat_interval=0.5,
        broker_request_timeout=15.0,
        broker_rebalance_timeout=14.0,
        broker_max_poll_interval=100.0,
        broker_max_poll_records=7,
        broker_check_crcs=False,
        consumer_max_fetch_size=65_536,
        consumer_metadata_max_age_ms=2000,
        consumer_connections_max_idle_ms=30_000,
        producer_acks=1,
        producer_compression_type="gzip",
        producer_linger=0.01,
        producer_max_batch_size=32_768,
        producer_max_request_size=500_000,
        producer_request_timeout=20.0,
        producer_metadata_max_age_ms=3000,
        producer_connections_max_idle_ms=40_000,
    )
    topic = unique("settings")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="settings-producer")
    consumer = transport.create_consumer(group_id=unique("g"), client_id="settings-consumer")
    consumer.subscribe([topic], RecordingListener("c", []))
    await producer.start()
    await consumer.start()
    try:
        deliveries = [
            await producer.send(ProducerRecord(topic, 0, None, b"x" * 100)) for _ in range(20)
        ]
        await producer.flush()
        assert [(await d).offset for d in deliveries] == list(range(20))
        batches: list[int] = []
        while sum(batches) < 20:
            batch = await consumer.getmany(1.0)
            batches.append(len(batch.get(TP(topic, 0), [])))
        assert max(batches) <= 7, f"broker_max_poll_records=7 but got batches of {batches}"

        real = consumer._client
        assert real._session_timeout_ms == 12_000
        assert real._heartbeat_interval_ms == 500
        assert real._request_timeout_ms == 15_000
        assert real._rebalance_timeout_ms == 14_000
        assert real._max_poll_interval_ms == 100_000
        assert real._max_poll_records == 7
        assert real._check_crcs is False
        assert real._enable_auto_commit is False
        # The consumer's own strm assignor, alone (see test_kafka_group_protocol).
        assert real._partition_assignment_strategy == (consumer.assignor,)
        assert real._coordinator._lookup_assignor("strm") is consumer.assignor
        assert real._max_partition_fetch_bytes == 65_536
        assert real._client._client_id == "settings-consumer"
        assert real._client._metadata_max_age_ms == 2000
        assert real._client._connections_max_idle_ms == 30_000

        sender = producer._client
        assert sender._compression_type == "gzip"
        assert sender._max_request_size == 500_000
        assert sender._request_timeout_ms == 20_000
        assert sender.client._client_id == "settings-producer"
        assert sender.client._metadata_max_age_ms == 3000
        assert sender.client._connections_max_idle_ms == 40_000
    finally:
        await consumer.stop()
        await producer.stop()


async def test_acks_zero_sends_without_knowing_the_offset(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(producer_acks=0)
    topic = unique("acks0")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="p")
    await producer.start()
    try:
        delivery = await producer.send(ProducerRecord(topic, 0, b"k", b"v", 1_700_000_000.5))
        await producer.flush()
        metadata = await delivery
    finally:
        await producer.stop()
    assert (metadata.tp, metadata.offset, metadata.timestamp) == (TP(topic, 0), -1, 1_700_000_000.5)


async def test_old_producer_api_version_drops_headers(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(producer_api_version="0.10.2")
    topic = unique("no-headers")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="p")
    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    consumer.subscribe([topic], RecordingListener("c", []))
    await producer.start()
    await consumer.start()
    try:
        await producer.send(ProducerRecord(topic, 0, b"k", b"v", headers=[("h", b"x")]))
        await producer.flush()
        messages = []
        for _ in range(50):
            messages += (await consumer.getmany(0.2)).get(TP(topic, 0), [])
            if messages:
                break
    finally:
        await consumer.stop()
        await producer.stop()
    assert [(m.value, list(m.headers)) for m in messages] == [(b"v", [])]


async def test_a_record_the_broker_refuses_fails_its_delivery_and_the_next_flush(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport()
    topic = unique("too-large")
    spec = TopicSpec(topic, 1, config={"max.message.bytes": "1000"})
    await transport.create_admin().create_topic(spec)
    producer = transport.create_producer(client_id="p")
    await producer.start()
    try:
        refused = await producer.send(ProducerRecord(topic, 0, None, b"x" * 5000))
        with pytest.raises(TransportError, match=r"1 record\(s\) sent by producer 'p' .* not"):
            await producer.flush()
        with pytest.raises(TransportError, match=rf"a record for {topic}\[0\] was not delivered"):
            await refused
        accepted = await producer.send(ProducerRecord(topic, 0, None, b"small"))
        await producer.flush()  # the failure was reported once
        assert (await accepted).offset == 0
    finally:
        await producer.stop()


async def test_highwater_is_learned_from_fetches_without_a_request(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    """strm's Monitor reads lag from it at every snapshot: ``None`` until a fetch answered for
    the partition, then the end offset the last fetch response carried."""
    transport = kafka_transport()
    topic = unique("highwater")
    tp = TP(topic, 0)
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="hw-producer")
    consumer = transport.create_consumer(group_id=unique("g"), client_id="hw-consumer")
    assert consumer.highwater(tp) is None  # not started
    consumer.subscribe([topic], RecordingListener("c", []))
    await producer.start()
    await consumer.start()
    try:
        for _ in range(5):
            await producer.send(ProducerRecord(topic, 0, None, b"x"))
        await producer.flush()
        fetched = 0
        for _ in range(30):
            fetched += len((await consumer.getmany(1.0)).get(tp, []))
            if fetched == 5 and consumer.highwater(tp) == 5:
                break
        assert (fetched, consumer.highwater(tp)) == (5, 5)
    finally:
        await consumer.stop()
        await producer.stop()
    assert consumer.highwater(tp) is None  # stopped


async def test_a_fetch_without_a_budget_returns_a_bounded_number_of_records(
    kafka_transport: Callable[..., KafkaTransport],
    unique: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kernel fetches without a budget when it reads only changelogs (recovery): a small
    bound on records keeps it from turning all that aiokafka prefetched into objects at once."""
    monkeypatch.setattr(consumer_module, "UNBUDGETED_RECORDS", 50)
    transport = kafka_transport()
    topic = unique("unbudgeted")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="unbudgeted-producer")
    consumer = transport.create_consumer(group_id=unique("g"), client_id="unbudgeted-consumer")
    consumer.subscribe([topic], RecordingListener("c", []))
    await producer.start()
    await consumer.start()
    try:
        for i in range(500):
            await producer.send(ProducerRecord(topic, 0, None, str(i).encode()))
        await producer.flush()
        batches: list[int] = []
        for _ in range(200):  # bounded: 10 fetches would do
            batch = await consumer.getmany(1.0)
            batches.append(len(batch.get(TP(topic, 0), [])))
            if sum(batches) >= 500:
                break
        assert sum(batches) == 500
        assert max(batches) == 50, f"at most 50 records a fetch, got {batches}"
    finally:
        await consumer.stop()
        await producer.stop()


async def test_headers_of_any_sequence_type_are_sent(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    """``ProducerRecord.headers`` is any sequence of pairs (a tracing sensor's ``headers_out``
    may return a tuple); aiokafka's record builder takes only a list, and raised a bare
    ``TypeError: Expected list, got tuple`` for a tuple."""
    transport = kafka_transport()
    topic = unique("tuple-headers")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    producer = transport.create_producer(client_id="headers-producer")
    consumer = transport.create_consumer(group_id=unique("g"), client_id="headers-consumer")
    consumer.subscribe([topic], RecordingListener("c", []))
    await producer.start()
    await consumer.start()
    try:
        await producer.send(ProducerRecord(topic, 0, None, b"t", headers=(("a", b"1"),)))
        await producer.send(ProducerRecord(topic, 0, None, b"l", headers=[("b", b"2")]))
        await producer.flush()
        got: list[tuple[bytes | None, object]] = []
        for _ in range(30):  # bounded: one or two fetches do
            for message in (await consumer.getmany(1.0)).get(TP(topic, 0), []):
                got.append((message.value, list(message.headers)))
            if len(got) >= 2:
                break
        assert got == [(b"t", [("a", b"1")]), (b"l", [("b", b"2")])]
    finally:
        await consumer.stop()
        await producer.stop()
