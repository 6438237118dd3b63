"""The kernel's transport contract against a real Kafka broker, plus what the contract leaves
to each transport: positions, changing subscriptions, errors naming the partition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from strm.kernel.spi import TP, ProducerRecord, TopicSpec
from strm.kernel.transports import (
    NoOffsetForPartitionError,
    PartitionNotAssignedError,
    TransportError,
)
from strm.testing.contracts.transport import RecordingListener, TransportContract
from strm_transport_kafka import KafkaTransport

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


class TestKafkaTransportContract(TransportContract):
    # A second member is noticed at the next heartbeat; the rest is network round trips.
    timeout = 20.0

    @pytest.fixture
    def transport_factory(
        self, kafka_transport: Callable[..., KafkaTransport]
    ) -> Callable[[], KafkaTransport]:
        first = kafka_transport()
        return lambda: KafkaTransport(context=first.context, urls=first.urls)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.05)


async def test_position_follows_fetching_and_seeking(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport()
    topic = unique("position")
    assert await transport.create_admin().create_topic(TopicSpec(topic, 1)) is True
    tp = TP(topic, 0)
    producer = transport.create_producer(client_id="p")
    await producer.start()
    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    try:
        for i in range(3):
            await producer.send(ProducerRecord(topic, 0, None, b"%d" % i))
        await producer.flush()
        consumer.subscribe([topic], RecordingListener("c", []))
        await consumer.start()
        assert await consumer.position(tp) == 0
        got: list[int] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while len(got) < 3 and loop.time() < deadline:
            batch = await consumer.getmany(0.2)
            got += [m.offset for m in batch.get(tp, [])]
        assert got == [0, 1, 2]
        assert await consumer.position(tp) == 3
        consumer.seek(tp, 1)
        assert await consumer.position(tp) == 1
        with pytest.raises(PartitionNotAssignedError, match=rf"{topic}.*not assigned"):
            consumer.seek(TP(topic, 5), 0)
        with pytest.raises(PartitionNotAssignedError, match="not assigned"):
            await consumer.commit({TP(f"{topic}-other", 0): 1})
        with pytest.raises(ValueError, match="an offset is an int >= 0"):
            consumer.seek(tp, -1)
    finally:
        await consumer.stop()
        await producer.stop()


async def test_changing_the_subscription_revokes_before_the_new_assignment(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    """From names to a pattern aiokafka needs an unsubscribe; the listener still hears the
    revocation first, and can commit in it."""
    transport = kafka_transport()
    first, second = unique("sub-a"), unique("sub-b")
    admin = transport.create_admin()
    await admin.create_topic(TopicSpec(first, 1))
    await admin.create_topic(TopicSpec(second, 1))
    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    events: list[tuple[str, str, frozenset[TP]]] = []
    commits: list[int | None] = []

    class Committing(RecordingListener):
        async def on_partitions_revoked(self, revoked: set[TP]) -> None:
            await super().on_partitions_revoked(revoked)
            await consumer.commit({tp: 0 for tp in revoked})
            commits.append(await consumer.committed(TP(first, 0)))

    listener = Committing("c", events)
    consumer.subscribe([first], listener)
    await consumer.start()
    try:
        await _until(lambda: consumer.assignment() == {TP(first, 0)}, "the first assignment")
        consumer.subscribe([], listener, pattern=f"{second}|nothing-else")
        want = {TP(second, 0)}

        async def poll() -> bool:
            await consumer.getmany(0.05)
            return consumer.assignment() == want and listener.mine()[-1:] == [
                ("assigned", frozenset(want))
            ]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not await poll():
            assert loop.time() < deadline, f"no switch to the pattern: {events}"
        kinds = [(kind, set(tps)) for kind, tps in listener.mine()]
        assert kinds == [
            ("assigned", {TP(first, 0)}),
            ("revoked", {TP(first, 0)}),
            ("assigned", want),
        ]
        assert commits == [0]
    finally:
        await consumer.stop()
    assert listener.mine()[-1] == ("revoked", frozenset(want)), "stop revokes what is held"


async def test_a_listener_error_is_raised_by_getmany(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport()
    topic = unique("listener")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))

    class Failing(RecordingListener):
        async def on_partitions_assigned(self, assigned: set[TP]) -> None:
            raise RuntimeError("the kernel could not take the partitions")

    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    consumer.subscribe([topic], Failing("c", []))
    await consumer.start()
    try:
        with pytest.raises(RuntimeError, match="could not take the partitions"):
            for _ in range(100):
                await consumer.getmany(0.1)
    finally:
        await consumer.stop()


async def test_sending_to_a_missing_partition_names_it(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport()
    topic = unique("missing-partition")
    await transport.create_admin().create_topic(TopicSpec(topic, 2))
    producer = transport.create_producer(client_id="p")
    await producer.start()
    try:
        with pytest.raises(TransportError, match=rf"{topic}\[7\] does not exist.* 2 partitions"):
            await producer.send(ProducerRecord(topic, 7, b"k", b"v"))
        with pytest.raises(TransportError, match="needs a key or a value"):
            await producer.send(ProducerRecord(topic, 0, None, None))
    finally:
        await producer.stop()
    with pytest.raises(TransportError, match="not started"):
        await producer.send(ProducerRecord(topic, 0, b"k", b"v"))


async def test_create_topic_passes_its_configuration_and_replication_factor(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    admin = kafka_transport().create_admin()
    topic = unique("configured")
    with pytest.raises(TransportError, match=rf"{topic}.*replication factor 9.*InvalidReplication"):
        await admin.create_topic(TopicSpec(topic, 1, replication_factor=9))
    with pytest.raises(TransportError, match=rf"{topic}.*cleanup\.policy"):
        await admin.create_topic(TopicSpec(topic, 1, config={"cleanup.policy": "no-such-policy"}))
    assert await admin.partition_count(topic) is None
    spec = TopicSpec(topic, 2, config={"cleanup.policy": "compact", "retention.ms": "60000"})
    assert await admin.create_topic(spec) is True
    assert await admin.partition_count(topic) == 2


async def test_no_committed_offset_and_no_reset_is_an_error_naming_the_partition(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(consumer_auto_offset_reset="none", broker_request_timeout=10.0)
    topic = unique("no-reset")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    tp = TP(topic, 0)
    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    consumer.subscribe([topic], RecordingListener("c", []))
    await consumer.start()
    try:
        with pytest.raises(NoOffsetForPartitionError, match=rf"{topic}.*'none'"):
            for _ in range(100):
                await consumer.getmany(0.1)
        await consumer.commit({tp: 0})
        assert await consumer.position(tp) == 0
        assert await consumer.getmany(0.1) == {}
    finally:
        await consumer.stop()


async def test_offsets_of_a_missing_partition_fail_naming_it(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport(
        broker_request_timeout=1.5, broker_session_timeout=1.5, broker_heartbeat_interval=0.3
    )
    topic = unique("missing")
    await transport.create_admin().create_topic(TopicSpec(topic, 1))
    consumer = transport.create_consumer(group_id=unique("g"), client_id="c")
    await consumer.start()  # not subscribed: no group to join
    try:
        with pytest.raises(TransportError, match=rf"end offsets of {topic}\[3\]"):
            await consumer.end_offsets([TP(topic, 3)])
        with pytest.raises(TransportError, match=rf"beginning offsets of {topic}\[3\]"):
            await consumer.beginning_offsets([TP(topic, 3)])
        assert await consumer.end_offsets([TP(topic, 0)]) == {TP(topic, 0): 0}
        assert await consumer.committed(TP(topic, 0)) is None
        assert await consumer.end_offsets([]) == {}
    finally:
        await consumer.stop()
