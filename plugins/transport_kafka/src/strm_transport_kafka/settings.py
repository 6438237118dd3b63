"""The settings of Faust's configuration reference that only a Kafka client acts on.

They tune aiokafka (protocol versions, fetch sizes, batching, group heartbeats, timeouts of
requests), so they are declared by this plugin (``strm_settings``), not by the kernel: they exist
in ``app.conf`` only when the plugin is loaded, and without it strm names this distribution when
one of them is given. The group settings the kernel acts on itself (``broker_session_timeout``,
``broker_rebalance_timeout``, ``consumer_group_instance_id``) stay in the kernel's catalogue.
"""

from __future__ import annotations

from strm.kernel.settings.setting import Alias, Setting
from strm.kernel.settings.types import Bool, Int, Seconds, Str


def _ms_to_seconds(value: object) -> float:
    return float(value) / 1000.0  # type: ignore[arg-type]


def _ms(name: str, default: int, env: str, doc: str, section: str) -> Setting:
    """The ``*_ms`` settings keep Faust's milliseconds, as their names say."""
    return Setting(name, Int(min=0), doc, default=default, env=env, section=section)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "broker_api_version",
        Str(),
        "Kafka protocol version, 'auto' to negotiate.",
        default="auto",
        env="BROKER_API_VERSION",
        section="Broker",
    ),
    Setting(
        "broker_check_crcs",
        Bool(),
        "Check the CRC32 of consumed records.",
        default=True,
        env="BROKER_CHECK_CRCS",
        section="Broker",
    ),
    Setting(
        "broker_heartbeat_interval",
        Seconds(min=0),
        "Consumer group heartbeat interval.",
        default=3.0,
        env="BROKER_HEARTBEAT_INTERVAL",
        section="Broker",
    ),
    Setting(
        "broker_max_poll_interval",
        Seconds(min=0),
        "Longest time between fetches before the group considers the consumer dead.",
        default=1000.0,
        env="BROKER_MAX_POLL_INTERVAL",
        section="Broker",
    ),
    Setting(
        "broker_max_poll_records",
        Int(min=1, optional=True),
        "Most records one fetch returns.",
        env="BROKER_MAX_POLL_RECORDS",
        section="Broker",
    ),
    Setting(
        "broker_request_timeout",
        Seconds(min=0),
        "Client request timeout; not less than broker_session_timeout.",
        default=90.0,
        env="BROKER_REQUEST_TIMEOUT",
        section="Broker",
    ),
    Setting(
        "consumer_api_version",
        Str(),
        "Kafka protocol version for consumers.",
        default_from="broker_api_version",
        env="CONSUMER_API_VERSION",
        section="Consumer",
    ),
    Setting(
        "consumer_max_fetch_size",
        Int(min=1),
        "Most bytes fetched per partition.",
        default=1_048_576,
        env="CONSUMER_MAX_FETCH_SIZE",
        section="Consumer",
    ),
    _ms(
        "consumer_metadata_max_age_ms",
        300_000,
        "CONSUMER_METADATA_MAX_AGE_MS",
        "Refresh consumer metadata at least this often (ms).",
        "Consumer",
    ),
    _ms(
        "consumer_connections_max_idle_ms",
        540_000,
        "CONSUMER_CONNECTIONS_MAX_IDLE_MS",
        "Close consumer connections idle this long (ms).",
        "Consumer",
    ),
    Setting(
        "producer_acks",
        Int(min=-1, max=1),
        "Acknowledgements a send waits for: 0, 1 or -1 (all in-sync replicas).",
        default=-1,
        env="PRODUCER_ACKS",
        section="Producer",
    ),
    Setting(
        "producer_api_version",
        Str(),
        "Kafka protocol version for producers.",
        default_from="broker_api_version",
        env="PRODUCER_API_VERSION",
        section="Producer",
    ),
    Setting(
        "producer_compression_type",
        Str(choices=("gzip", "snappy", "lz4", "zstd"), optional=True),
        "Compression of produced batches.",
        env="PRODUCER_COMPRESSION_TYPE",
        section="Producer",
    ),
    Setting(
        "producer_linger",
        Seconds(min=0),
        "How long the producer waits to fill a batch.",
        default=0.0,
        env="PRODUCER_LINGER",
        section="Producer",
        aliases=(Alias("producer_linger_ms", _ms_to_seconds),),
    ),
    Setting(
        "producer_max_batch_size",
        Int(min=1),
        "Largest producer batch, in bytes.",
        default=16_384,
        env="PRODUCER_MAX_BATCH_SIZE",
        section="Producer",
    ),
    Setting(
        "producer_request_timeout",
        Seconds(min=0),
        "Producer request timeout; batches not sent by then fail.",
        default=1200.0,
        env="PRODUCER_REQUEST_TIMEOUT",
        section="Producer",
    ),
    _ms(
        "producer_metadata_max_age_ms",
        300_000,
        "PRODUCER_METADATA_MAX_AGE_MS",
        "Refresh producer metadata at least this often (ms).",
        "Producer",
    ),
    _ms(
        "producer_connections_max_idle_ms",
        540_000,
        "PRODUCER_CONNECTIONS_MAX_IDLE_MS",
        "Close producer connections idle this long (ms).",
        "Producer",
    ),
)
