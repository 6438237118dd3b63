"""Fixtures of the Kafka transport's tests: apps and transports on the real broker that the
``kafka_bootstrap`` fixture of :mod:`strm.testing.kafka` provides."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from strm.app import App
from strm.runtime.backend_contexts import transport_context as app_transport_context
from strm.testing.pytest_plugin import AppFactory
from strm_transport_kafka import KafkaTransport

#: Settings that make groups settle in well under a second on a local broker: a new member
#: is noticed at the next heartbeat, and pattern subscriptions see new topics within a second.
FAST: dict[str, Any] = {
    "broker_heartbeat_interval": 0.3,
    "broker_session_timeout": 10.0,
    "broker_request_timeout": 10.0,
    "broker_rebalance_timeout": 10.0,
    "consumer_metadata_max_age_ms": 1000,
    "broker_commit_interval": 0.2,
}


def unique_name(prefix: str) -> str:
    """A name no other test uses: topics and groups live as long as the broker."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique(prefix)``: a topic or group name of this test only."""
    return unique_name


@pytest.fixture
def kafka_url(kafka_bootstrap: str) -> str:
    return f"kafka://{kafka_bootstrap}"


@pytest.fixture
def kafka_app(strm_app_factory: AppFactory, kafka_url: str) -> Callable[..., App]:
    """``kafka_app(id=None, plugins=(), **settings)``: an app on the test broker with the
    :data:`FAST` group settings (each overridable) and the plugin (with ``plugins`` besides);
    the id is unique unless given."""

    def make(id: str | None = None, plugins: Sequence[str] = (), **settings: Any) -> App:
        settings.setdefault("broker", kafka_url)
        for name, value in FAST.items():
            settings.setdefault(name, value)
        return strm_app_factory(
            id or unique_name("strm-test"),
            plugins=["strm_transport_kafka", *plugins],
            **settings,
        )

    return make


@pytest.fixture
def kafka_transport(kafka_app: Callable[..., App]) -> Callable[..., KafkaTransport]:
    """``kafka_transport(**settings)``: a transport of a fresh app with these settings."""

    def make(**settings: Any) -> KafkaTransport:
        app = kafka_app(**settings).configure()
        return KafkaTransport(context=app_transport_context(app), urls=app.conf.broker)

    return make
