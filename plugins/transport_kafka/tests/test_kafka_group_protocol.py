"""The group protocol on the wire: one JoinGroup per rejoin with the ``strm`` protocol only, and
a clear error when a member of another program shares the group id.

aiokafka sends one JoinGroup per configured assignor (aio-libs/aiokafka#1168); with two, the
second request reached the broker while the group completed the first rebalance and started
another, and workers starting together under load rebalanced without end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.protocol.group import JoinGroupRequest  # type: ignore[import-untyped]
from strm.kernel.spi import TP, TopicSpec
from strm.kernel.transports import TransportError
from strm.testing.contracts.transport import RecordingListener
from strm_transport_kafka import KafkaTransport
from strm_transport_kafka.consumer import KafkaConsumer

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def settle(*consumers: KafkaConsumer, partitions: int, timeout: float = 30.0) -> None:
    """Poll every consumer until their assignments split ``partitions`` among all of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await asyncio.gather(*(consumer.getmany(0.1) for consumer in consumers))
        sizes = [len(consumer.assignment()) for consumer in consumers]
        if all(sizes) and sum(sizes) == partitions:
            return
    raise AssertionError(f"the group did not settle within {timeout} s: {sizes}")


def spy_on_join_groups(consumer: KafkaConsumer) -> list[Any]:
    """The JoinGroup requests the consumer's aiokafka coordinator sends from now on."""
    coordinator = consumer._client._coordinator
    send = coordinator._send_req
    sent: list[Any] = []

    async def recording(request: Any) -> Any:
        if isinstance(request, JoinGroupRequest):
            # the protocols as sent (aiokafka appends to the list it passed afterwards)
            sent.append([name for name, _ in request._group_protocols])
        return await send(request)

    coordinator._send_req = recording
    return sent


async def test_a_member_rejoins_with_one_join_group_of_the_strm_protocol(
    kafka_transport: Callable[..., KafkaTransport], unique: Callable[[str], str]
) -> None:
    transport = kafka_transport()
    topic, group = unique("proto"), unique("g")
    await transport.create_admin().create_topic(TopicSpec(topic, 4))
    first = transport.create_consumer(group_id=group, client_id="first")
    second = transport.create_consumer(group_id=group, client_id="second")
    first.subscribe([topic], RecordingListener("first", []))
    second.subscribe([topic], RecordingListener("second", []))
    await first.start()
    try:
        await settle(first, partitions=4)
        sent = spy_on_join_groups(first)
        await second.start()
        try:
            await settle(first, second, partitions=4)
            # The second member's arrival makes the first rejoin once, with one request.
            assert len(sent) == 1, f"JoinGroup requests for one rebalance: {sent}"
            assert sent == [["strm"]]
            assert first.assignment().isdisjoint(second.assignment())
            assert first.assignment() | second.assignment() == {TP(topic, p) for p in range(4)}
        finally:
            await second.stop()
    finally:
        await first.stop()


async def test_a_member_of_another_program_in_the_group_is_a_clear_error(
    kafka_transport: Callable[..., KafkaTransport],
    kafka_bootstrap: str,
    unique: Callable[[str], str],
) -> None:
    transport = kafka_transport(
        broker_rebalance_timeout=6.0, broker_request_timeout=6.0, broker_session_timeout=6.0
    )
    topic, group = unique("foreign"), unique("g")
    await transport.create_admin().create_topic(TopicSpec(topic, 2))
    foreign = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group)
    await foreign.start()
    consumer = transport.create_consumer(group_id=group, client_id="strm-member")
    consumer.subscribe([topic], RecordingListener("strm", []))
    try:
        await foreign.getmany(timeout_ms=500)  # joined with aiokafka's range protocol
        with pytest.raises(TransportError) as raised:
            await consumer.start()
            for _ in range(50):
                await consumer.getmany(0.1)
        message = str(raised.value)
        assert f"group {group!r}" in message
        assert "do not assign with the 'strm' protocol" in message
        assert "an id of its own" in message
    finally:
        await consumer.stop()
        await foreign.stop()
