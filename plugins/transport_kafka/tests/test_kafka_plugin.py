"""The plugin inside an app: its entry point, both schemes, the transport the kernel builds."""

from __future__ import annotations

import importlib.metadata

import strm_transport_kafka
from strm.spi import Admin, Consumer, Producer, Transport
from strm.testing.pytest_plugin import AppFactory
from strm_transport_kafka import KafkaTransport

PLUGIN = "strm_transport_kafka"


def test_the_entry_point_is_registered() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="strm") if ep.name == "transport_kafka"
    ]
    assert entry_point.value == PLUGIN
    assert entry_point.dist is not None and entry_point.dist.name == "strm-transport-kafka"
    assert entry_point.load() is strm_transport_kafka


def test_the_installed_entry_point_provides_both_schemes(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(entry_points=True, broker="aiokafka://localhost:9092")
    for scheme in ("kafka", "aiokafka"):
        provision = app.resolve_backend("broker", f"{scheme}://h")
        assert provision.factory is KafkaTransport
        assert provision.distribution == "strm-transport-kafka"
    info = {p.name: p for p in app.plugins.plugins()}["transport_kafka"]
    assert info.module == PLUGIN
    assert not info.builtin


def test_the_kernel_builds_the_transport_without_connecting(strm_app_factory: AppFactory) -> None:
    """Building clients needs no event loop and no broker: aiokafka clients are made by
    ``start()``, so a transport of an unreachable cluster is created without an error."""
    app = strm_app_factory(
        plugins=[PLUGIN],
        broker="kafka://broker-1.invalid:9092;broker-2.invalid",
        broker_consumer="kafka://consumers.invalid:19092",
    ).configure()
    transport = app.transport("broker_producer")
    assert isinstance(transport, KafkaTransport) and isinstance(transport, Transport)
    assert transport.servers == ["broker-1.invalid:9092", "broker-2.invalid:9092"]
    assert repr(transport) == "<KafkaTransport broker-1.invalid:9092,broker-2.invalid:9092>"
    consumers = app.transport("broker_consumer")
    assert isinstance(consumers, KafkaTransport)
    assert consumers.servers == ["consumers.invalid:19092"]
    consumer = consumers.create_consumer(group_id="g", client_id="c")
    assert isinstance(consumer, Consumer)
    assert consumer.assignment() == set()
    assert "group 'g'" in repr(consumer)
    assert isinstance(transport.create_producer(client_id="p"), Producer)
    assert isinstance(transport.create_admin(), Admin)
