"""The plugin inside an app: its entry point, both schemes, the transport the kernel builds."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import strm_transport_kafka
from strm.kernel.spi import Admin, Consumer, Producer, Transport
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


def test_strm_settings_does_not_show_the_password_of_a_kafka_url(tmp_path: Path) -> None:
    (tmp_path / "kapp.py").write_text("import strm\napp = strm.App('kapp')\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONUTF8": "1",
        "BROKER_URL": "kafka://u:s3cret@h:9092",
    }
    for args in (["settings"], ["settings", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "strm", "-A", "kapp", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "s3cret" not in done.stdout + done.stderr
        assert done.stdout.count("kafka://u:***@h:9092") == 3  # broker, its consumer, producer
