"""A missing source topic on a Kafka broker with ``auto.create.topics.enable=false`` is a
start-up error naming the topic. ``scripts/kafka start`` has no server property overrides, so
the session broker (auto-create on) is used, with the admin's answer patched to ``False``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.kernel.errors import StrmError
from strm.kernel.spi import TopicSpec
from strm_transport_kafka import KafkaTransport
from strm_transport_kafka.admin import KafkaAdmin

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def _no_auto_create(self: KafkaAdmin) -> bool:
    return False


@pytest.fixture
def no_auto_create(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KafkaAdmin, "creates_topics_on_use", _no_auto_create)


def _counting_app(kafka_app: Callable[..., App], topic: str, **options: Any) -> App:
    app = kafka_app()

    @app.agent(app.topic(topic, **options))
    async def count(stream: Any) -> None:
        async for _ in stream:
            pass

    return app


async def test_the_test_broker_creates_topics_on_use(
    kafka_transport: Callable[..., KafkaTransport],
) -> None:
    assert await kafka_transport().create_admin().creates_topics_on_use() is True


async def test_an_unreadable_broker_config_counts_as_creating(
    kafka_transport: Callable[..., KafkaTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    async def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("not authorized")

    monkeypatch.setattr(AIOKafkaAdminClient, "describe_configs", refuse)
    assert await kafka_transport().create_admin().creates_topics_on_use() is True


async def test_a_missing_source_topic_is_a_start_up_error(
    kafka_app: Callable[..., App], unique: Callable[[str], str], no_auto_create: None
) -> None:
    topic = unique("missing")
    app = _counting_app(kafka_app, topic)
    with pytest.raises(StrmError, match=f"source topic '{topic}' does not exist") as info:
        async with app.running():
            pass
    assert "create it, or pass partitions=N" in str(info.value)
    # Asking never created it.
    admin = app.transport("broker_producer").create_admin()
    assert await admin.partition_count(topic) is None


async def test_an_existing_or_declared_source_topic_starts(
    kafka_app: Callable[..., App], unique: Callable[[str], str], no_auto_create: None
) -> None:
    existing = unique("existing")
    app = _counting_app(kafka_app, existing)
    admin = app.configure().transport("broker_producer").create_admin()
    await admin.create_topic(TopicSpec(existing, 1))
    async with app.running():
        pass
    declared = unique("declared")
    app = _counting_app(kafka_app, declared, partitions=2)
    async with app.running():
        pass
    assert await admin.partition_count(declared) == 2
