"""scripts/kafka and the strm.testing.kafka fixtures against a real Apache Kafka (KRaft).

Kafka's jars come from Maven Central through Maven (``scripts/kafka fetch``, which .ci/run runs
first); the brokers listen on 127.0.0.1 only. The Kafka protocol checks use the script's own
small client (ApiVersions, Metadata, FindCoordinator, InitProducerId, SASL PLAIN), and Kafka's
own tools (kafka-topics, console producer/consumer) run with ``java -cp`` through the script.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from strm.testing.kafka import (
    KafkaBroker,
    KafkaCluster,
    KafkaSasl,
    KafkaSsl,
    KafkaUnavailable,
    find_script,
)

# The fixtures come from strm.testing.kafka, which the repository's root conftest.py enables
# (and which registers the `kafka` marker).
pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "kafka"
TOOL_TIMEOUT = 60.0


def _load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("strm_kafka_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("strm_kafka_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


kafka = _load_script()


def script(
    *args: str, timeout: float = TOOL_TIMEOUT, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def tool(
    broker_dir: Path | None, bootstrap: str, name: str, *args: str, **kw: str
) -> subprocess.CompletedProcess[str]:
    """One of Kafka's own command-line tools against ``bootstrap``."""
    if broker_dir is not None:
        cmd = ["tool", name, "--dir", str(broker_dir), "--"]
    else:  # a broker given by STRM_KAFKA_BOOTSTRAP: the default version's tools
        cls = kafka.tool_class(kafka.DEFAULT_VERSION, name)
        cmd = ["run-class", cls, "--"]
    return script(*cmd, "--bootstrap-server", bootstrap, *args, **kw)


def hostport(bootstrap: str) -> tuple[str, int]:
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    return host, int(port)


def test_fetch_again_is_instant(kafka_bootstrap: str) -> None:
    # The fixture fetched Kafka already: a second fetch only checks the cache.
    t0 = time.monotonic()
    result = script("fetch", timeout=30)
    elapsed = time.monotonic() - t0
    assert result.returncode == 0, result.stderr
    libs = Path(result.stdout.strip())
    assert any(libs.glob("kafka_2.13-*.jar")), list(libs.iterdir())
    assert "fetching" not in result.stderr  # Maven did not run
    assert elapsed < 5, elapsed


def test_broker_answers_api_versions_and_metadata(kafka_bootstrap: str) -> None:
    host, port = hostport(kafka_bootstrap)
    assert host == "127.0.0.1"
    with kafka.KafkaConnection(host, port) as conn:
        apis = conn.api_versions()
        meta = conn.metadata()
    for api_key in (0, 1, 3, 10, 11, 22, 24, 26):  # produce, fetch, ..., txn end
        assert api_key in apis, sorted(apis)
    assert [(b["host"], b["port"]) for b in meta["brokers"]] == [(host, port)]
    assert meta["cluster_id"]
    assert meta["controller_id"] == meta["brokers"][0]["node_id"]


def test_group_and_transaction_coordinators_work_on_one_broker(kafka_bootstrap: str) -> None:
    # The offsets and transaction-state topics are created on first use: with replication
    # factor 1 and min ISR 1 a single broker can serve both.
    host, port = hostport(kafka_bootstrap)
    deadline = time.monotonic() + 30
    with kafka.KafkaConnection(host, port, timeout=10) as conn:
        for key_type, key in ((0, "strm-test-group"), (1, "strm-test-txn")):
            while (found := conn.find_coordinator(key, key_type))["error_code"] != 0:
                assert found["error_code"] in (14, 15), found  # loading, not available
                assert time.monotonic() < deadline, found
                time.sleep(0.2)
            assert (found["host"], found["port"]) == (host, port)
        while (pid := conn.init_producer_id("strm-test-txn"))["error_code"] != 0:
            assert pid["error_code"] in (14, 15, 16, 51), pid  # retriable
            assert time.monotonic() < deadline, pid
            time.sleep(0.2)
    assert pid["producer_id"] >= 0
    assert pid["producer_epoch"] >= 0


def test_kafka_tools_create_list_produce_consume(kafka_broker: KafkaBroker) -> None:
    d, bootstrap = kafka_broker.directory, kafka_broker.bootstrap
    topic = f"strm-script-test-{os.getpid()}"
    created = tool(d, bootstrap, "topics", "--create", "--topic", topic, "--partitions", "3")
    assert created.returncode == 0, created.stderr
    listed = tool(d, bootstrap, "topics", "--list")
    assert topic in listed.stdout.split(), listed.stdout + listed.stderr
    described = tool(d, bootstrap, "topics", "--describe", "--topic", topic)
    assert "PartitionCount: 3" in described.stdout, described.stdout + described.stderr

    produced = tool(d, bootstrap, "console-producer", "--topic", topic, input="a\nb\nc\n")
    assert produced.returncode == 0, produced.stderr
    consumed = tool(
        d, bootstrap, "console-consumer", "--topic", topic, "--from-beginning",
        "--max-messages", "3", "--timeout-ms", "30000",
    )  # fmt: skip
    assert sorted(consumed.stdout.split()) == ["a", "b", "c"], consumed.stderr


def test_start_status_stop(tmp_path: Path, kafka_bootstrap: str) -> None:
    # kafka_bootstrap: Kafka is fetched (and the JVM warm on disk) before this test.
    d = tmp_path / "broker"
    port_file = tmp_path / "port"
    started = script(
        "start", "--dir", str(d), "--port-file", str(port_file), "--owner-pid", str(os.getpid()),
        timeout=120,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip()
    assert bootstrap.startswith("127.0.0.1:")
    assert port_file.read_text().strip() == bootstrap
    state = json.loads((d / "state.json").read_text())
    assert state["bootstrap"] == bootstrap
    pids = [n["pid"] for n in state["nodes"]]
    try:
        status = script("status", "--dir", str(d))
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.startswith(f"running: Kafka {state['version']} at {bootstrap}")

        again = script("start", "--dir", str(d))
        assert again.returncode == 2
        assert "still running" in again.stderr
    finally:
        stopped = script("stop", "--dir", str(d))
    assert stopped.returncode == 0, stopped.stderr
    for pid in pids:
        assert kafka._cmdline(pid) is None or "kafka.Kafka" not in kafka._cmdline(pid)
    status = script("status", "--dir", str(d))
    assert status.returncode == 3, status.stdout
    assert status.stdout.startswith("not running")
    # stop removes nothing: configs, logs and data stay for a look
    assert (d / "node-1" / "server.properties").is_file()
    assert (d / "node-1" / "kafka.log").stat().st_size > 0
    assert (d / "node-1" / "data" / "meta.properties").is_file()
    assert script("stop", "--dir", str(d)).returncode == 0  # twice is fine


def test_start_reuse_restarts_the_same_broker_on_its_data(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    d = tmp_path / "broker"
    nothing = script("start", "--reuse", "--dir", str(d))
    assert nothing.returncode == 2
    assert "nothing to reuse" in nothing.stderr, nothing.stderr
    assert not (d / "state.json").exists()

    started = script("start", "--dir", str(d), "--owner-pid", str(os.getpid()), timeout=120)
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip()
    first = json.loads((d / "state.json").read_text())
    host, port = hostport(bootstrap)
    with kafka.KafkaConnection(host, port) as conn:
        cluster_id = conn.metadata()["cluster_id"]
    assert cluster_id == first["cluster_id"]
    topic = f"strm-reuse-{os.getpid()}"
    try:
        created = tool(d, bootstrap, "topics", "--create", "--topic", topic, "--partitions", "2")
        assert created.returncode == 0, created.stderr
        produced = tool(d, bootstrap, "console-producer", "--topic", topic, input="x\ny\nz\n")
        assert produced.returncode == 0, produced.stderr

        running = script("start", "--reuse", "--dir", str(d))
        assert running.returncode == 2
        assert "still running" in running.stderr, running.stderr
    finally:
        stopped = script("stop", "--dir", str(d))
    assert stopped.returncode == 0, stopped.stderr
    assert script("status", "--dir", str(d)).returncode == 3

    other = script("start", "--reuse", "--dir", str(d), "--brokers", "3")
    assert other.returncode == 2
    assert "--brokers 3" in other.stderr, other.stderr

    port_file = tmp_path / "port"
    reused = script(
        "start", "--reuse", "--dir", str(d), "--port-file", str(port_file),
        "--owner-pid", str(os.getpid()), timeout=120,
    )  # fmt: skip
    assert reused.returncode == 0, reused.stderr
    try:
        assert reused.stdout.strip() == bootstrap  # the same ports
        assert port_file.read_text().strip() == bootstrap
        second = json.loads((d / "state.json").read_text())
        assert second["cluster_id"] == cluster_id
        assert second["listeners"] == first["listeners"]
        assert [n["ports"] for n in second["nodes"]] == [n["ports"] for n in first["nodes"]]
        new_pids = [n["pid"] for n in second["nodes"]]
        assert new_pids != [n["pid"] for n in first["nodes"]]
        assert all(kafka._ours(pid, "kafka.Kafka") for pid in new_pids)
        assert second["running"] is True
        with kafka.KafkaConnection(host, port) as conn:
            assert conn.metadata()["cluster_id"] == cluster_id  # not formatted again

        status = script("status", "--dir", str(d))
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.startswith(f"running: Kafka {second['version']} at {bootstrap}")
        assert f"pid {new_pids[0]} up" in status.stdout, status.stdout

        listed = tool(d, bootstrap, "topics", "--list")
        assert topic in listed.stdout.split(), listed.stdout + listed.stderr
        described = tool(d, bootstrap, "topics", "--describe", "--topic", topic)
        assert "PartitionCount: 2" in described.stdout, described.stdout + described.stderr
        consumed = tool(
            d, bootstrap, "console-consumer", "--topic", topic, "--from-beginning",
            "--max-messages", "3", "--timeout-ms", "30000",
        )  # fmt: skip
        assert sorted(consumed.stdout.split()) == ["x", "y", "z"], consumed.stderr
    finally:
        stopped = script("stop", "--dir", str(d))
    assert stopped.returncode == 0, stopped.stderr
    for pid in new_pids:
        assert not kafka._ours(pid, "kafka.Kafka")
    status = script("status", "--dir", str(d))
    assert status.returncode == 3, status.stdout
    # both runs' output is kept in the node's log
    assert "start --reuse" in (d / "node-1" / "kafka.log").read_text()


def test_three_node_cluster(kafka_cluster: KafkaCluster) -> None:
    assert kafka_cluster.brokers == 3
    addresses = kafka_cluster.bootstrap.split(",")
    assert len(addresses) == 3
    for address in addresses:
        with kafka.KafkaConnection(*hostport(address)) as conn:
            meta = conn.metadata()
        assert sorted(b["node_id"] for b in meta["brokers"]) == [1, 2, 3]
    d = kafka_cluster.broker.directory if kafka_cluster.broker else None
    topic = "strm-replicated"
    created = tool(
        d, kafka_cluster.bootstrap, "topics", "--create", "--topic", topic,
        "--partitions", "3", "--replication-factor", "3",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    described = tool(d, kafka_cluster.bootstrap, "topics", "--describe", "--topic", topic)
    assert "ReplicationFactor: 3" in described.stdout, described.stdout + described.stderr


def test_sasl_plain_and_scram(kafka_sasl: KafkaSasl) -> None:
    assert {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} <= set(kafka_sasl.mechanisms)
    host, port = hostport(kafka_sasl.bootstrap)
    with kafka.KafkaConnection(host, port) as conn:
        assert conn.sasl_plain(kafka_sasl.username, kafka_sasl.password)[0] == 0
        assert conn.metadata()["brokers"]  # authenticated: requests are served
    with kafka.KafkaConnection(host, port) as conn:
        error, message = conn.sasl_plain(kafka_sasl.username, "wrong")
    assert error == 58, message  # SASL_AUTHENTICATION_FAILED

    config = kafka_sasl.command_configs.get("SASL_PLAINTEXT/SCRAM-SHA-256")
    assert config is not None, "the SASL broker must come with a tool config for SCRAM"
    listed = script(
        "run-class", kafka.tool_class(kafka.DEFAULT_VERSION, "topics"), "--",
        "--bootstrap-server", kafka_sasl.bootstrap, "--command-config", config, "--list",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr


def test_ssl_listener_verifies_with_the_ca(kafka_ssl: KafkaSsl) -> None:
    host, port = hostport(kafka_ssl.bootstrap)
    context = ssl.create_default_context(cafile=kafka_ssl.cafile)
    with kafka.KafkaConnection(host, port, ssl_context=context) as conn:
        assert conn.metadata()["brokers"][0]["port"] == port
    with pytest.raises(ssl.SSLCertVerificationError):
        kafka.KafkaConnection(host, port, ssl_context=ssl.create_default_context())


def test_fixture_module_outside_the_repository_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRM_KAFKA_SCRIPT", raising=False)
    assert find_script() == SCRIPT
    installed = tmp_path / "site-packages" / "strm" / "testing" / "kafka.py"
    with pytest.raises(KafkaUnavailable, match="set STRM_KAFKA_BOOTSTRAP"):
        find_script(installed)


def test_watchdog_stops_the_broker_when_its_owner_dies(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    d = tmp_path / "broker"
    try:
        started = script("start", "--dir", str(d), "--owner-pid", str(owner.pid), timeout=120)
        assert started.returncode == 0, started.stderr
        assert script("status", "--dir", str(d)).returncode == 0
    finally:
        owner.kill()
        owner.wait(timeout=10)
    deadline = time.monotonic() + 45
    while (status := script("status", "--dir", str(d))).returncode != 3:
        if time.monotonic() > deadline:
            script("stop", "--dir", str(d))
            pytest.fail(f"the broker outlived its owner: {status.stdout}")
        time.sleep(0.5)
