"""``producer_threaded=True`` on Kafka: ``send_soon`` records go through a second aiokafka
producer on a thread and event loop of its own; the checkpoint makes them durable before the
offsets of the events that sent them are committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from strm.app import App
from strm.kernel.spi import TP
from strm.kernel.transports.threaded import ThreadedProducer
from strm.testing import eventually
from strm_transport_kafka import KafkaTransport
from test_kafka_app import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_send_soon_records_go_through_the_producer_thread(
    kafka_app: Callable[..., App],
    kafka_transport: Callable[..., KafkaTransport],
    unique: Callable[[str], str],
) -> None:
    app_id, source_name, out_name = unique("threaded"), unique("numbers"), unique("copies")
    app = kafka_app(app_id, producer_threaded=True, broker_commit_interval=3600.0)
    source = app.topic(source_name, value_type=int, partitions=2)
    out = app.topic(out_name, value_type=int, partitions=2)
    seen: list[int] = []
    senders: set[str] = set()

    @app.agent(source)
    async def copy(stream: Any) -> None:
        async for value in stream:
            out.send_soon(value=value, headers={"from": "soon"})
            seen.append(value)

    async with app.running():
        await out.declare()
        for i in range(300):
            await source.send(value=i)
        await eventually(lambda: len(seen) == 300, timeout=30)
        await app.conductor.checkpoint()
        threaded = app.producers.threaded
        assert threaded is not None
        producer = threaded.producer
        assert isinstance(producer, ThreadedProducer)
        senders = {t.name for t in threading.enumerate()}
        assert producer.name in senders
        inner = producer._producer
        assert inner is not None and inner.client_id.endswith("-threaded")  # type: ignore[attr-defined]
        committed = {
            tp: app.conductor.committed.get(tp) for tp in (TP(source_name, 0), TP(source_name, 1))
        }
    assert app.crash_error is None
    assert sum(offset or 0 for offset in committed.values()) == 300
    copies = await read_all(kafka_transport(), out_name, 300)
    assert sorted(int(m.value or b"") for m in copies) == list(range(300))
    assert {dict(m.headers)["from"] for m in copies} == {b"soon"}
    assert producer.name not in {t.name for t in threading.enumerate()}
