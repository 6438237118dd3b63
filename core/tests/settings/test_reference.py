"""Every setting of Faust's configuration reference, checked against strm's catalogue.

``faust_settings.toml`` beside this module holds the reference as data: each setting's name,
section, environment variable and default. Each name must be a kernel setting or a setting of a
first-party plugin. The table below then pins, for every kernel setting and every setting of the
Kafka transport plugin (loaded here for them), its default, its environment variable, how a
string from the environment is typed and that a bad value is refused with a message naming the
setting and the value.
"""

from __future__ import annotations

import ast
import logging
import re
import socket
import tomllib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strm import App
from strm.codecs.registry import Serializers
from strm.kernel.errors import ConfigurationError, SettingNotSupportedError
from strm.kernel.plugins.known import FIRST_PARTY_SETTINGS
from strm.kernel.settings.catalogue import KERNEL_SETTINGS, ProcessingGuarantee
from strm.kernel.settings.conf import Conf, Source
from strm.kernel.settings.setting import Setting
from strm.worker import Worker
from strm_transport_kafka.settings import SETTINGS as KAFKA_SETTINGS

REFERENCE = Path(__file__).with_name("faust_settings.toml")
SPECS: dict[str, Setting] = {spec.name: spec for spec in KERNEL_SETTINGS}
KAFKA_SPECS: dict[str, Setting] = {spec.name: spec for spec in KAFKA_SETTINGS}
#: What the table pins: the kernel's settings and the Kafka plugin's.
TABLE_SPECS: dict[str, Setting] = {**SPECS, **KAFKA_SPECS}
KAFKA_PLUGIN = "strm_transport_kafka"
SECRET_WORDS = ("password", "secret", "token", "credentials")

#: The reference's section headings and the catalogue's section names.
SECTIONS = {
    "Commonly Used Settings": "Common",
    "Advanced Agent Settings": "Agent",
    "Advanced Broker Settings": "Broker",
    "Advanced Consumer Settings": "Consumer",
    "Serialization Settings": "Serialization",
    "Advanced Producer Settings": "Producer",
    "Advanced Stream Settings": "Stream",
    "Agent RPC Settings": "RPC",
    "Advanced Table Settings": "Table",
    "Topic Settings": "Topic",
    "Advanced Web Server Settings": "WebServer",
    "Advanced Worker Settings": "Worker",
    "Extension Settings": "Extension",
}

#: Defaults where strm departs from the reference on purpose, and why.
DELIBERATE_DEFAULTS = {
    "broker_client_id": "strm identifies itself as 'strm', not as a Faust version",
    "loghandlers": "an empty list rather than None, so it can be iterated without a check",
    "timezone": "UTC as a zoneinfo name instead of datetime.timezone.utc",
}


@dataclass(frozen=True)
class RefEntry:
    name: str
    section: str
    env: str | None
    default: str | None  # the text after "- default:", when the reference gives a plain one


def load_reference(path: Path) -> list[RefEntry]:
    """Each setting of the reference, in the reference's order."""
    with path.open("rb") as file:
        rows = tomllib.load(file)["setting"]
    return [
        RefEntry(row["name"], row["section"], row.get("env"), row.get("default")) for row in rows
    ]


REFERENCE_ENTRIES = load_reference(REFERENCE)
REFERENCE_NAMES = [entry.name for entry in REFERENCE_ENTRIES]


def test_the_reference_is_found_and_parsed() -> None:
    assert len(REFERENCE_NAMES) == 99
    assert REFERENCE_NAMES[:3] == ["autodiscover", "datadir", "tabledir"]
    assert REFERENCE_NAMES[-1] == "Monitor"
    assert len(set(REFERENCE_NAMES)) == len(REFERENCE_NAMES)


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_every_reference_setting_is_declared(name: str) -> None:
    assert (name in SPECS) != (name in FIRST_PARTY_SETTINGS), name


def test_first_party_settings_come_from_the_reference() -> None:
    assert set(FIRST_PARTY_SETTINGS) <= set(REFERENCE_NAMES)
    assert not set(FIRST_PARTY_SETTINGS) & set(SPECS)


def test_the_kafka_plugin_declares_the_settings_named_as_its_own() -> None:
    named = {name for name, dist in FIRST_PARTY_SETTINGS.items() if dist == "strm-transport-kafka"}
    assert set(KAFKA_SPECS) == named


def test_the_kafka_settings_exist_once_the_plugin_is_loaded() -> None:
    app = App("t", environ={}, entry_points=False, plugins=[KAFKA_PLUGIN], producer_acks=1)
    assert app.configure().conf.producer_acks == 1
    assert KAFKA_PLUGIN in app.conf.specs()["producer_acks"].distribution


@pytest.mark.parametrize("name", sorted(FIRST_PARTY_SETTINGS))
def test_a_plugin_setting_without_its_plugin_names_the_distribution(name: str) -> None:
    dist = FIRST_PARTY_SETTINGS[name]
    given: dict[str, Any] = {name: 1}
    app = App("t", environ={}, entry_points=False, **given)
    with pytest.raises(ConfigurationError) as info:
        app.configure()
    message = str(info.value)
    assert repr(name) in message
    assert dist in message
    assert f"pip install {dist}" in message


@pytest.mark.parametrize("entry", [e for e in REFERENCE_ENTRIES if e.name in TABLE_SPECS], ids=str)
def test_section_and_environment_variable_follow_the_reference(entry: RefEntry) -> None:
    spec = TABLE_SPECS[entry.name]
    assert spec.section == SECTIONS[entry.section]
    if entry.env is not None:
        assert spec.env == entry.env


def _reference_literal(text: str) -> Any:
    enum_repr = re.fullmatch(r"<\w+\.\w+: (.+)>", text)
    return ast.literal_eval(enum_repr.group(1) if enum_repr else text)


@pytest.mark.parametrize(
    "entry",
    [e for e in REFERENCE_ENTRIES if e.name in TABLE_SPECS and e.default is not None],
    ids=str,
)
def test_plain_defaults_follow_the_reference(entry: RefEntry) -> None:
    spec = TABLE_SPECS[entry.name]
    assert entry.default is not None
    if entry.name in DELIBERATE_DEFAULTS:
        assert spec.type(spec.default) != _safe_literal(spec, entry.default)
        return
    assert spec.type(spec.default) == spec.type(_reference_literal(entry.default))


def _safe_literal(spec: Setting, text: str) -> Any:
    try:
        return spec.type(_reference_literal(text))
    except (ValueError, SyntaxError):
        return text


# -- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """An expected default that depends on the machine or on chance."""

    check: Callable[[Any], bool]
    what: str

    def __repr__(self) -> str:
        return self.what


NO_TEXT = None  # no string form is valid (SSL contexts, handler objects, credentials)
HOST = socket.gethostname()
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Row:
    name: str
    default: Any
    env: str | None
    text: str | None  # a valid string, from the environment (or for settings without one, code)
    typed: Any  # what ``text`` becomes
    bad: Any  # a value the setting refuses

    def __str__(self) -> str:
        return self.name


# One row a line reads as the table it is.
# fmt: off
ROWS: tuple[Row, ...] = (
    # Common
    Row("autodiscover", False, None, "yes", True, 42),
    Row("datadir", Path("t-data"), "APP_DATADIR", "~/strm-data", Path.home() / "strm-data", 42),
    Row("tabledir", Path("t-data/v1/tables"), "APP_TABLEDIR", "/srv/tables", Path("/srv/tables"),
        ""),
    Row("debug", False, "APP_DEBUG", "on", True, "maybe"),
    Row("env_prefix", None, "APP_ENV_PREFIX", "MYAPP_", "MYAPP_", 42),
    Row("id_format", "{id}-v{self.version}", "APP_ID_FORMAT", "{id}.{self.version}",
        "{id}.{self.version}", 42),
    Row("origin", None, None, "proj.app", "proj.app", 42),
    Row("timezone", ZoneInfo("UTC"), "TIMEZONE", "Europe/Oslo", ZoneInfo("Europe/Oslo"),
        "Mars/Olympus_Mons"),
    Row("version", 1, "APP_VERSION", "3", 3, 0),
    Row("blocking_timeout", None, "BLOCKING_TIMEOUT", "2.5", 2.5, "soon"),
    Row("broker", ["memory://"], "BROKER_URL", "kafka://k1:9092;k2:9092",
        ["kafka://k1:9092", "kafka://k2:9092"], "kafka://k1:9092;redis://r1"),
    Row("broker_credentials", None, "BROKER_CREDENTIALS", NO_TEXT, None, "user:hunter2"),
    Row("ssl_context", None, None, NO_TEXT, None, "tls"),
    Row("logging_config", None, None, '{"version": 1}', {"version": 1}, "[1, 2]"),
    Row("loghandlers", [], None, NO_TEXT, None, ["not a handler"]),
    Row("processing_guarantee", ProcessingGuarantee.AT_LEAST_ONCE, "PROCESSING_GUARANTEE",
        "exactly_once", ProcessingGuarantee.EXACTLY_ONCE, "twice"),
    Row("store", "memory://", "APP_STORE", "rocksdb:///var/lib/strm", "rocksdb:///var/lib/strm",
        "not a url"),
    Row("cache", "memory://", "CACHE_URL", "redis://localhost:6379/0", "redis://localhost:6379/0",
        "::"),
    # Agent
    Row("agent_supervisor", "one_for_one", "AGENT_SUPERVISOR", "one_for_all", "one_for_all",
        "no_such_package.Supervisor"),
    # Broker
    Row("broker_consumer", ["memory://"], "BROKER_CONSUMER_URL", "kafka://c1:9092",
        ["kafka://c1:9092"], 42),
    Row("broker_producer", ["memory://"], "BROKER_PRODUCER_URL", "kafka://p1:9092,p2:9092",
        ["kafka://p1:9092", "kafka://p2:9092"], []),
    Row("broker_api_version", "auto", "BROKER_API_VERSION", "0.10", "0.10", 0.1),
    Row("broker_check_crcs", True, "BROKER_CHECK_CRCS", "false", False, "sometimes"),
    Row("broker_client_id", "strm", "BROKER_CLIENT_ID", "billing", "billing", 7),
    Row("broker_commit_every", 10_000, "BROKER_COMMIT_EVERY", "500", 500, "many"),
    Row("broker_commit_interval", 2.8, "BROKER_COMMIT_INTERVAL", "0.5", 0.5, -1),
    Row("broker_commit_livelock_soft_timeout", 300.0, "BROKER_COMMIT_LIVELOCK_SOFT_TIMEOUT", "60",
        60.0, "never"),
    Row("broker_heartbeat_interval", 3.0, "BROKER_HEARTBEAT_INTERVAL", "1.5", 1.5, -3),
    Row("broker_max_poll_interval", 1000.0, "BROKER_MAX_POLL_INTERVAL", "300", 300.0, "x"),
    Row("broker_max_poll_records", None, "BROKER_MAX_POLL_RECORDS", "500", 500, 0),
    Row("broker_rebalance_timeout", 60.0, "BROKER_REBALANCE_TIMEOUT", "30", 30.0, "long"),
    Row("broker_request_timeout", 90.0, "BROKER_REQUEST_TIMEOUT", "120", 120.0, -90),
    Row("broker_session_timeout", 60.0, "BROKER_SESSION_TIMEOUT", "45", 45.0, "short"),
    # Consumer
    Row("consumer_api_version", "auto", "CONSUMER_API_VERSION", "2.0", "2.0", 2),
    Row("consumer_max_fetch_size", 1_048_576, "CONSUMER_MAX_FETCH_SIZE", "2097152", 2_097_152, 0),
    Row("consumer_auto_offset_reset", "earliest", "CONSUMER_AUTO_OFFSET_RESET", "latest",
        "latest", "middle"),
    Row("consumer_group_instance_id", None, "CONSUMER_GROUP_INSTANCE_ID", "worker-1", "worker-1",
        1),
    Row("consumer_metadata_max_age_ms", 300_000, "CONSUMER_METADATA_MAX_AGE_MS", "60000", 60_000,
        -1),
    Row("consumer_connections_max_idle_ms", 540_000, "CONSUMER_CONNECTIONS_MAX_IDLE_MS", "1000",
        1000, "idle"),
    Row("ConsumerScheduler", "round_robin", None, "by_topic", "by_topic",
        "no_such_package.Scheduler"),
    # Serialization
    Row("key_serializer", "raw", "APP_KEY_SERIALIZER", "json|binary", "json|binary", "json|!"),
    Row("value_serializer", "json", "APP_VALUE_SERIALIZER", "pickle", "pickle", 3.5),
    # Producer
    Row("producer_acks", -1, "PRODUCER_ACKS", "1", 1, 2),
    Row("producer_api_version", "auto", "PRODUCER_API_VERSION", "0.11", "0.11", None),
    Row("producer_compression_type", None, "PRODUCER_COMPRESSION_TYPE", "lz4", "lz4", "brotli"),
    Row("producer_linger", 0.0, "PRODUCER_LINGER", "0.25", 0.25, "slow"),
    Row("producer_max_batch_size", 16_384, "PRODUCER_MAX_BATCH_SIZE", "32768", 32_768, 0),
    Row("producer_max_request_size", 1_000_000, "PRODUCER_MAX_REQUEST_SIZE", "2000000",
        2_000_000, "big"),
    Row("producer_partitioner", None, None, "murmur2", "murmur2", "os.sep"),
    Row("producer_request_timeout", 1200.0, "PRODUCER_REQUEST_TIMEOUT", "600", 600.0, "forever"),
    Row("producer_threaded", False, "PRODUCER_THREADED", "yes", True, "threaded"),
    Row("producer_metadata_max_age_ms", 300_000, "PRODUCER_METADATA_MAX_AGE_MS", "1000", 1000,
        1.5),
    Row("producer_connections_max_idle_ms", 540_000, "PRODUCER_CONNECTIONS_MAX_IDLE_MS", "0", 0,
        -5),
    # Stream
    Row("recovery_consistency_check", True, "RECOVERY_CONSISTENCY_CHECK", "0", False, "perhaps"),
    Row("stream_buffer_maxsize", 4096, "STREAM_BUFFER_MAXSIZE", "131072", 131_072, 0),
    Row("stream_processing_timeout", 300.0, "STREAM_PROCESSING_TIMEOUT", "10", 10.0, "slowly"),
    Row("stream_publish_on_commit", False, None, "true", True, "later"),
    Row("stream_recovery_delay", 0.0, "STREAM_RECOVERY_DELAY", "3", 3.0, -1),
    Row("stream_wait_empty", True, "STREAM_WAIT_EMPTY", "off", False, "empty"),
    Row("dead_letter_topic", None, "DEAD_LETTER_TOPIC", "orders-dlq", "orders-dlq", 42),
    # RPC
    Row("reply_create_topic", False, "APP_REPLY_CREATE_TOPIC", "1", True, "create"),
    Row("reply_expires", 86_400.0, "APP_REPLY_EXPIRES", "3600", 3600.0, "tomorrow"),
    Row("reply_to_prefix", "strm-reply-", "APP_REPLY_TO_PREFIX", "billing-reply-",
        "billing-reply-", 9),
    Row("reply_to", Computed(lambda v: re.fullmatch(f"strm-reply-{_UUID}", v) is not None,
                             "'strm-reply-<uuid4>'"), None, "billing-replies", "billing-replies",
        9),
    # Table
    Row("table_cleanup_interval", 30.0, "TABLE_CLEANUP_INTERVAL", "5", 5.0, "often"),
    Row("table_key_index_size", 1000, "TABLE_KEY_INDEX_SIZE", "5000", 5000, -1),
    Row("table_standby_replicas", 1, "TABLE_STANDBY_REPLICAS", "2", 2, -1),
    # Topic
    Row("topic_allow_declare", True, "TOPIC_ALLOW_DECLARE", "no", False, "allowed"),
    Row("topic_disable_leader", False, "TOPIC_DISABLE_LEADER", "yes", True, "leader"),
    Row("topic_partitions", 8, "TOPIC_PARTITIONS", "16", 16, 0),
    Row("topic_replication_factor", 1, "TOPIC_REPLICATION_FACTOR", "3", 3, 0),
    # WebServer
    Row("web", "aiohttp://", None, "uvicorn", "uvicorn://", "no url"),
    Row("web_bind", "0.0.0.0", "WEB_BIND", "127.0.0.1", "127.0.0.1", 127),
    Row("web_cors_options", None, None, '{"http://a.example": {"allow_credentials": true}}',
        {"http://a.example": {"allow_credentials": True}}, "not json"),
    Row("web_enabled", True, "APP_WEB_ENABLED", "false", False, "web"),
    Row("web_host", HOST, "WEB_HOST", "node-1.example", "node-1.example", 1),
    Row("web_in_thread", False, None, "1", True, "thread"),
    Row("web_port", 6066, "WEB_PORT", "8080", 8080, 70_000),
    Row("web_ssl_context", None, None, NO_TEXT, None, "cert.pem"),
    Row("web_transport", "tcp://", None, "unix:///tmp/strm.sock", "unix:///tmp/strm.sock",
        "/tmp/strm.sock"),
    Row("canonical_url", f"http://{HOST}:6066", "NODE_CANONICAL_URL", "http://node-1.example:80",
        "http://node-1.example:80", "node 1"),
    # Worker
    Row("worker_redirect_stdouts", True, "WORKER_REDIRECT_STDOUTS", "no", False, "redirect"),
    Row("worker_redirect_stdouts_level", logging.WARNING, "WORKER_REDIRECT_STDOUTS_LEVEL", "info",
        logging.INFO, "LOUD"),
    # Extension: None means the class a plugin provides
    Row("Agent", None, None, "collections:OrderedDict", OrderedDict, "no_such_package.Agent"),
    Row("Event", None, None, "collections.OrderedDict", OrderedDict, "collections.NoSuchEvent"),
    Row("Schema", None, None, "collections:OrderedDict", OrderedDict, "os.path:join"),
    Row("Stream", None, None, "collections.OrderedDict", OrderedDict, 42),
    Row("Table", None, None, "collections:OrderedDict", OrderedDict, "no_such_package:Table"),
    Row("SetTable", None, None, "collections.OrderedDict", OrderedDict, "collections:nope"),
    Row("GlobalTable", None, None, "collections:OrderedDict", OrderedDict, "GlobalTable"),
    Row("SetGlobalTable", None, None, "collections.OrderedDict", OrderedDict, "os.sep"),
    Row("TableManager", None, None, "collections:OrderedDict", OrderedDict, "no_such.Manager"),
    Row("Serializers", None, None, "strm.codecs.registry:Serializers", Serializers, "strm:nope"),
    Row("Worker", None, None, "strm.worker.Worker", Worker, "strm.worker:Nope"),
    Row("PartitionAssignor", None, None, "collections:OrderedDict", OrderedDict, "x.y.Z"),
    Row("LeaderAssignor", None, None, "collections.OrderedDict", OrderedDict, "x:Y"),
    Row("Router", None, None, "collections:OrderedDict", OrderedDict, "os.path.join"),
    Row("Topic", None, None, "collections.OrderedDict", OrderedDict, "Topic"),
    Row("HttpClient", None, None, "collections:OrderedDict", OrderedDict, "no_such.Client"),
    Row("Monitor", None, None, "collections.OrderedDict", OrderedDict, 3),
)
# fmt: on


def test_the_table_has_one_row_per_kernel_and_kafka_setting() -> None:
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names))
    assert set(names) == set(TABLE_SPECS)
    in_reference = [name for name in names if name in REFERENCE_NAMES]
    assert in_reference == [name for name in REFERENCE_NAMES if name in TABLE_SPECS]


@pytest.fixture(scope="module")
def default_conf() -> Conf:
    return App("t", environ={}, entry_points=False, plugins=[KAFKA_PLUGIN]).configure().conf


def _conf(*, given: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Conf:
    return Conf(app_id="t", specs=TABLE_SPECS, given=given or {}, environ=environ or {})


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_default(row: Row, default_conf: Conf) -> None:
    value = getattr(default_conf, row.name)
    if isinstance(row.default, Computed):
        assert row.default.check(value), value
    else:
        assert value == row.default
        assert type(value) is type(row.default)
    assert str(default_conf.source_of(row.name)) == "default"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_environment_variable(row: Row) -> None:
    spec = TABLE_SPECS[row.name]
    assert spec.env == row.env
    if row.text is None:
        if row.env is not None:  # declared, but no string is a valid value: refused, not ignored
            with pytest.raises(ConfigurationError, match=f"from environment {row.env}"):
                _conf(environ={row.env: "anything"})
        return
    assert spec.type(row.text) == row.typed
    if row.env is None:
        return
    if spec.pending and row.typed not in spec.works_as_is:
        with pytest.raises(SettingNotSupportedError) as info:
            _conf(environ={row.env: row.text})
        assert repr(row.name) in str(info.value)
        assert f"environment {row.env}" in str(info.value)
        return
    conf = _conf(environ={row.env: row.text})
    assert conf.as_dict()[row.name] == row.typed
    assert conf.source_of(row.name) == Source("environment", row.env)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_bad_value(row: Row) -> None:
    with pytest.raises(ConfigurationError) as info:
        _conf(given={row.name: row.bad})
    assert not isinstance(info.value, SettingNotSupportedError)
    message = str(info.value)
    assert message.startswith(f"setting {row.name!r}")
    secret = any(word in row.name for word in SECRET_WORDS)
    shown = "<hidden>" if secret else repr(row.bad)
    assert f"bad value {shown}" in message
    if secret:
        assert str(row.bad) not in message
