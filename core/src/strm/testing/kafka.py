"""Real Apache Kafka for tests: session fixtures backed by the repository's ``scripts/kafka``.

Not registered globally: enable it in a ``conftest.py`` (or a test module)::

    pytest_plugins = ["strm.testing.kafka"]

Fixtures, all session-scoped; each starts its broker on first use and stops it when the session
ends (a watchdog stops it too if the pytest process dies):

``kafka_bootstrap``
    ``"127.0.0.1:PORT"`` of a one-node KRaft broker (``$STRM_KAFKA_BOOTSTRAP`` if set).
``kafka_cluster``
    :class:`KafkaCluster` of three combined broker+controller nodes
    (``$STRM_KAFKA_CLUSTER_BOOTSTRAP`` if set).
``kafka_sasl``
    :class:`KafkaSasl`: a SASL_PLAINTEXT bootstrap and test-only credentials for PLAIN,
    SCRAM-SHA-256 and SCRAM-SHA-512 (``$STRM_KAFKA_SASL_BOOTSTRAP`` if set, with
    ``$STRM_KAFKA_SASL_USERNAME`` / ``$STRM_KAFKA_SASL_PASSWORD``).
``kafka_ssl``
    :class:`KafkaSsl`: an SSL bootstrap and the PEM CA to verify it
    (``$STRM_KAFKA_SSL_BOOTSTRAP`` and ``$STRM_KAFKA_SSL_CAFILE`` if set).

``kafka_sasl`` and ``kafka_ssl`` share one broker. ``$STRM_KAFKA_VERSION`` picks the Kafka
version (default: the script's). Tests using these fixtures are marked ``kafka`` and ``slow``
automatically. See docs/kafka-for-tests.md.

On a machine without Java 17+ or Maven the tests that need a broker started here are skipped,
with one line in the summary saying how many and why, so the rest of a suite still runs; with
``STRM_TESTS_NO_SKIP=1`` (CI sets it) they fail instead, naming what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Bounds of the script's steps (seconds). A cold fetch downloads ~60 MB with Maven.
FETCH_TIMEOUT = 900.0
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0

KAFKA_FIXTURES = frozenset(
    {
        "kafka_bootstrap",
        "kafka_broker",
        "kafka_cluster",
        "kafka_sasl",
        "kafka_ssl",
        "kafka_secure_broker",
    }
)


#: Set to 1 where every test must run (CI): a test that would be skipped for want of a tool fails.
NO_SKIP_ENV = "STRM_TESTS_NO_SKIP"
PREREQUISITES = "Java 17+ and Maven are needed; see docs/kafka-for-tests.md"
MIN_JAVA = 17
SKIP_PREFIX = "cannot start Kafka here: "
JAVA_VERSION_TIMEOUT = 30.0


class KafkaUnavailable(RuntimeError):
    """No broker address in the environment and no way to start one."""


@dataclass(frozen=True)
class KafkaBroker:
    """A broker (or cluster) started by ``scripts/kafka`` for this session, or given."""

    bootstrap: str
    directory: Path | None = None
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def listeners(self) -> dict[str, str]:
        """Bootstrap addresses by listener name (PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL)."""
        listeners: dict[str, str] = self.state.get("listeners", {"PLAINTEXT": self.bootstrap})
        return listeners


@dataclass(frozen=True)
class KafkaCluster:
    """Several combined broker+controller nodes."""

    bootstrap: str
    brokers: int
    broker: KafkaBroker | None = None


@dataclass(frozen=True)
class KafkaSasl:
    """A SASL_PLAINTEXT listener and test-only credentials valid for every mechanism listed."""

    bootstrap: str
    username: str
    password: str
    mechanisms: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
    security_protocol: str = "SASL_PLAINTEXT"
    #: Kafka tool property files (``--command-config``) by "LISTENER/MECHANISM", if started here.
    command_configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KafkaSsl:
    """An SSL listener; ``cafile`` (PEM) verifies its certificate (SAN 127.0.0.1)."""

    bootstrap: str
    cafile: str
    security_protocol: str = "SSL"
    command_configs: dict[str, str] = field(default_factory=dict)


def find_script(start: Path | None = None) -> Path:
    """``scripts/kafka`` of the strm repository this module is in (or ``$STRM_KAFKA_SCRIPT``)."""
    given = os.environ.get("STRM_KAFKA_SCRIPT")
    if given:
        return Path(given)
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        candidate = parent / "scripts" / "kafka"
        if candidate.is_file():
            return candidate
    raise KafkaUnavailable(
        "strm.testing.kafka starts Kafka with the strm repository's scripts/kafka, which is not "
        f"above {here} (strm is installed without its repository). Start a broker yourself and "
        "set STRM_KAFKA_BOOTSTRAP=127.0.0.1:9092 (and STRM_KAFKA_CLUSTER_BOOTSTRAP, "
        "STRM_KAFKA_SASL_BOOTSTRAP, STRM_KAFKA_SSL_BOOTSTRAP for the other fixtures), or set "
        "STRM_KAFKA_SCRIPT to a copy of scripts/kafka."
    )


def run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/kafka ARGS``; raise :class:`KafkaUnavailable` with its output on failure."""
    cmd = [sys.executable, str(find_script()), *args]
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise KafkaUnavailable(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise KafkaUnavailable(
            f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr.strip()}"
        )
    return proc


@dataclass
class _Started:
    broker: KafkaBroker
    directory: Path

    def stop(self) -> None:
        run_script("stop", "--dir", str(self.directory), timeout=STOP_TIMEOUT)


def start_broker(directory: Path, *options: str) -> _Started:
    """Fetch Kafka (instant when cached) and start it in ``directory`` with ``options``."""
    version = os.environ.get("STRM_KAFKA_VERSION")
    vargs = ("--version", version) if version else ()
    run_script("fetch", *vargs, timeout=FETCH_TIMEOUT)
    run_script(
        "start",
        *vargs,
        "--dir",
        str(directory),
        "--owner-pid",
        str(os.getpid()),
        "--timeout",
        str(START_TIMEOUT),
        *options,
        timeout=START_TIMEOUT + 120,  # + format and first-time SSL material
    )
    state: dict[str, Any] = json.loads((directory / "state.json").read_text())
    return _Started(KafkaBroker(state["bootstrap"], directory, state), directory)


def missing_prerequisites() -> list[str]:
    """What this machine lacks to start Kafka with ``scripts/kafka``, as the script looks for it
    (``$JAVA_HOME/bin/java`` or ``java`` on PATH, ``mvn`` on PATH)."""
    missing = []
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else None
    if java is None or not Path(java).is_file():
        java = shutil.which("java")
    if java is None:
        missing.append("java is not on PATH (nor in $JAVA_HOME)")
    else:
        major = _java_major_version(java)
        if major is None or major < MIN_JAVA:
            missing.append(f"{java} is Java {major or 'of an unknown version'}, not {MIN_JAVA}+")
    if shutil.which("mvn") is None:
        missing.append("mvn (Maven) is not on PATH")
    return missing


def _java_major_version(java: str) -> int | None:
    """``17`` from ``openjdk version "17.0.15"`` (``1.8.0`` is Java 8)."""
    try:
        proc = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=JAVA_VERSION_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def _require_prerequisites() -> None:
    """Skip the test (fail it under ``STRM_TESTS_NO_SKIP=1``) when Kafka cannot start here."""
    missing = missing_prerequisites()
    if not missing:
        return
    why = "; ".join(missing)
    if os.environ.get(NO_SKIP_ENV) == "1":
        pytest.fail(
            f"cannot start Kafka: {why}. {PREREQUISITES}. "
            f"({NO_SKIP_ENV}=1 turns this skip into a failure.)",
            pytrace=False,
        )
    pytest.skip(f"{SKIP_PREFIX}{why}")


def _started(
    tmp_path_factory: pytest.TempPathFactory, name: str, *options: str
) -> Iterator[KafkaBroker]:
    _require_prerequisites()
    try:
        started = start_broker(tmp_path_factory.mktemp(name), *options)
    except KafkaUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield started.broker
    finally:
        started.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A one-node broker: the given ``$STRM_KAFKA_BOOTSTRAP``, or one started for the session."""
    given = os.environ.get("STRM_KAFKA_BOOTSTRAP")
    if given:
        yield KafkaBroker(given)
        return
    yield from _started(tmp_path_factory, "kafka")


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker) -> str:
    """``"127.0.0.1:PORT"`` of a one-node Kafka broker (PLAINTEXT)."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """Three combined broker+controller nodes (replication factor 3, min ISR 2)."""
    given = os.environ.get("STRM_KAFKA_CLUSTER_BOOTSTRAP")
    if given:
        yield KafkaCluster(given, brokers=len(given.split(",")))
        return
    for broker in _started(tmp_path_factory, "kafka-cluster", "--brokers", "3"):
        yield KafkaCluster(broker.bootstrap, brokers=3, broker=broker)


@pytest.fixture(scope="session")
def kafka_secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One broker with SASL_PLAINTEXT, SSL and SASL_SSL listeners besides PLAINTEXT."""
    yield from _started(tmp_path_factory, "kafka-secure", "--sasl", "--ssl")


@pytest.fixture(scope="session")
def kafka_sasl(request: pytest.FixtureRequest) -> KafkaSasl:
    """A SASL_PLAINTEXT bootstrap and test-only credentials (PLAIN, SCRAM-SHA-256/512)."""
    given = os.environ.get("STRM_KAFKA_SASL_BOOTSTRAP")
    if given:
        return KafkaSasl(
            given,
            username=os.environ.get("STRM_KAFKA_SASL_USERNAME", "strm"),
            password=os.environ.get("STRM_KAFKA_SASL_PASSWORD", "strm-secret"),
        )
    broker: KafkaBroker = request.getfixturevalue("kafka_secure_broker")
    sasl = broker.state["sasl"]
    return KafkaSasl(
        broker.listeners["SASL_PLAINTEXT"],
        username=sasl["username"],
        password=sasl["password"],
        mechanisms=tuple(sasl["mechanisms"]),
        command_configs=dict(broker.state.get("client_properties", {})),
    )


@pytest.fixture(scope="session")
def kafka_ssl(request: pytest.FixtureRequest) -> KafkaSsl:
    """An SSL bootstrap and the PEM CA file that verifies it."""
    given = os.environ.get("STRM_KAFKA_SSL_BOOTSTRAP")
    if given:
        cafile = os.environ.get("STRM_KAFKA_SSL_CAFILE")
        if not cafile:
            pytest.fail("STRM_KAFKA_SSL_BOOTSTRAP is set without STRM_KAFKA_SSL_CAFILE", False)
        return KafkaSsl(given, cafile=cafile)
    broker: KafkaBroker = request.getfixturevalue("kafka_secure_broker")
    return KafkaSsl(
        broker.listeners["SSL"],
        cafile=broker.state["ssl"]["cafile"],
        command_configs=dict(broker.state.get("client_properties", {})),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kafka: uses a real Kafka broker (strm.testing.kafka; scripts/kafka or "
        "STRM_KAFKA_BOOTSTRAP)",
    )
    if not any(line.split(":")[0].strip() == "slow" for line in config.getini("markers")):
        config.addinivalue_line("markers", "slow: a slow test")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for the Kafka tests skipped for want of Java or Maven, however many there are."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "kafka" in getattr(report, "keywords", {}) and SKIP_PREFIX in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} Kafka tests skipped: {PREREQUISITES}", yellow=True, bold=True
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a Kafka fixture ``kafka`` and ``slow``."""
    for item in items:
        if KAFKA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            for name in ("kafka", "slow"):
                if item.get_closest_marker(name) is None:
                    item.add_marker(name)
