"""Failures a person must be able to read: an unreachable broker, refused credentials, a
certificate that does not verify. Secrets never appear in what is raised or logged."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
import strm
from strm.app import App
from strm.kernel.spi import TP, ProducerRecord, TopicSpec
from strm.kernel.transports import TransportError
from strm.testing.contracts.transport import RecordingListener
from strm.testing.kafka import KafkaSasl, KafkaSsl
from strm.testing.pytest_plugin import AppFactory
from strm_transport_kafka import KafkaTransport

WRONG = "not-the-password-0451"


def transport_of(app: App) -> KafkaTransport:
    app.configure()
    transport = app.transport()
    assert isinstance(transport, KafkaTransport)
    return transport


@pytest.mark.slow
async def test_an_unreachable_broker_is_named_after_a_bounded_retry(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory(
        plugins=["strm_transport_kafka"],
        broker="kafka://127.0.0.1:1",
        broker_request_timeout=1.0,
        broker_session_timeout=1.0,
        broker_heartbeat_interval=0.2,
    )
    transport = transport_of(app)
    unreachable = r"cannot reach the Kafka broker\(s\) 127\.0\.0\.1:1 for the {what}: .*Connect"

    started = time.monotonic()
    with pytest.raises(TransportError, match=unreachable.format(what="producer")) as info:
        await app.get_sender()
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5, f"gave up after {elapsed:.1f} s instead of about 1 s"
    assert "attempts in 1 s, broker_request_timeout" in str(info.value)

    consumer = transport.create_consumer(group_id="g", client_id="c")
    consumer.subscribe(["t"], RecordingListener("c", []))
    with pytest.raises(TransportError, match=unreachable.format(what="consumer of group 'g'")):
        await consumer.start()
    with pytest.raises(TransportError, match="stopped and cannot restart"):
        await consumer.start()
    await consumer.stop()

    with pytest.raises(TransportError, match=unreachable.format(what="admin client")):
        await transport.create_admin().create_topic(TopicSpec("t", 1))

    # An app with an agent fails at start, naming the broker.
    topic = app.topic("t", partitions=1)

    @app.agent(topic)
    async def agent(stream: Any) -> None:
        async for _ in stream:
            pass

    with pytest.raises(TransportError, match=r"127\.0\.0\.1:1"):
        await app.start()


async def test_sasl_credentials_authenticate(
    kafka_sasl: KafkaSasl, strm_app_factory: AppFactory, unique: Callable[[str], str]
) -> None:
    for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        credentials = strm.SASLCredentials(
            kafka_sasl.username, kafka_sasl.password, mechanism=mechanism
        )
        app = strm_app_factory(
            plugins=["strm_transport_kafka"],
            broker=f"kafka://{kafka_sasl.bootstrap}",
            broker_credentials=credentials,
        )
        transport = transport_of(app)
        topic = unique(f"sasl-{mechanism.lower()}")
        assert await transport.create_admin().create_topic(TopicSpec(topic, 1)) is True
        producer = transport.create_producer(client_id="p")
        await producer.start()
        try:
            delivery = await producer.send(ProducerRecord(topic, 0, b"k", mechanism.encode()))
            metadata = await delivery
        finally:
            await producer.stop()
        assert metadata.tp == TP(topic, 0)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
async def test_wrong_sasl_credentials_fail_at_once_without_the_password(
    kafka_sasl: KafkaSasl,
    strm_app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
    mechanism: str,
) -> None:
    app = strm_app_factory(
        plugins=["strm_transport_kafka"],
        broker=f"kafka://{kafka_sasl.bootstrap}",
        broker_credentials=strm.SASLCredentials(kafka_sasl.username, WRONG, mechanism=mechanism),
    )
    transport = transport_of(app)
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        await app.get_sender()
    assert time.monotonic() - started < 5, "a refused login is not retried"
    message = str(info.value)
    assert f"the Kafka broker(s) {kafka_sasl.bootstrap} refused the producer" in message
    assert "Authentication" in message and "broker_credentials" in message
    with pytest.raises(TransportError, match="refused the consumer of group 'g'"):
        consumer = transport.create_consumer(group_id="g", client_id="c")
        await consumer.start()
    for text in (message, caplog.text, repr(transport), repr(app.conf.broker_credentials)):
        assert WRONG not in text


async def test_tls_with_the_brokers_ca_and_without(
    kafka_ssl: KafkaSsl, strm_app_factory: AppFactory, unique: Callable[[str], str]
) -> None:
    trusted = ssl.create_default_context(cafile=kafka_ssl.cafile)
    app = strm_app_factory(
        plugins=["strm_transport_kafka"],
        broker=f"kafka://{kafka_ssl.bootstrap}",
        ssl_context=trusted,
    )
    topic = unique("tls")
    assert await transport_of(app).create_admin().create_topic(TopicSpec(topic, 1)) is True

    untrusted = strm_app_factory(
        plugins=["strm_transport_kafka"],
        broker=f"kafka://{kafka_ssl.bootstrap}",
        broker_credentials=strm.SSLCredentials(ssl.create_default_context()),
    )
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"refused the admin client: .*certificate verify"):
        await transport_of(untrusted).create_admin().partition_count(topic)
    assert time.monotonic() - started < 5, "a certificate that does not verify is not retried"
