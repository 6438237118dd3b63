"""Fixtures of the integration tests on a real Kafka broker: in-process apps on the session's
broker (``kafka_bootstrap`` from :mod:`strm.testing.kafka`), raw aiokafka helpers, and the
bits the subprocess-worker tests share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from itest_helpers import unique_name
from strm.app import App

#: Settings that make groups settle quickly on a local broker.
FAST: dict[str, Any] = {
    "broker_heartbeat_interval": 0.3,
    "broker_session_timeout": 6.0,
    "broker_request_timeout": 10.0,
    "broker_rebalance_timeout": 10.0,
    "consumer_metadata_max_age_ms": 1000,
    "broker_commit_interval": 0.2,
}


@pytest.fixture
def unique() -> Callable[[str], str]:
    return unique_name


@pytest.fixture
def kafka_url(kafka_bootstrap: str) -> str:
    return f"kafka://{kafka_bootstrap}"


@pytest.fixture
def kafka_app(tmp_path: Path, kafka_url: str) -> Callable[..., App]:
    """``kafka_app(id=None, plugins=(), **settings)``: an isolated app (no environment, no
    entry points) on the test broker, with the :data:`FAST` settings (each overridable)."""

    def make(id: str | None = None, plugins: Sequence[str] = (), **settings: Any) -> App:
        settings.setdefault("broker", kafka_url)
        settings.setdefault("datadir", str(tmp_path / "data" / uuid.uuid4().hex[:6]))
        for name, value in FAST.items():
            settings.setdefault(name, value)
        return App(
            id or unique_name("itest"),
            plugins=["strm_transport_kafka", *plugins],
            environ={},
            entry_points=False,
            **settings,
        )

    return make
