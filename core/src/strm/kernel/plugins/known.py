"""What the first-party plugins provide, so a missing one is named with its install command."""

from __future__ import annotations

#: (kind, scheme or name) -> distribution that provides it.
FIRST_PARTY_PROVISIONS: dict[tuple[str, str], str] = {
    ("transport", "kafka"): "strm-transport-kafka",
    ("transport", "aiokafka"): "strm-transport-kafka",
    ("store", "rocksdb"): "strm-store-rocksdb",
    ("store", "leveldb"): "strm-store-leveldb",
    ("store", "aerospike"): "strm-store-aerospike",
    ("cache", "redis"): "strm-cache-redis",
    ("cache", "rediscluster"): "strm-cache-redis",
    ("sensor", "prometheus"): "strm-sensor-prometheus",
    ("web", "aiohttp"): "strm-web-aiohttp",
    ("web_transport", "tcp"): "strm-web-aiohttp",
    ("web_transport", "unix"): "strm-web-aiohttp",
    ("sensor", "statsd"): "strm-sensor-statsd",
    ("sensor", "datadog"): "strm-sensor-datadog",
    ("sensor", "otel"): "strm-sensor-otel",
}

#: Settings of the configuration reference that belong to a first-party plugin.
FIRST_PARTY_SETTINGS: dict[str, str] = {
    "store_check_exists": "strm-store-aerospike",
    "crash_app_on_aerospike_exception": "strm-store-aerospike",
    "aerospike_retries_on_exception": "strm-store-aerospike",
    "aerospike_sleep_seconds_between_retries_on_exception": "strm-store-aerospike",
    "broker_api_version": "strm-transport-kafka",
    "broker_check_crcs": "strm-transport-kafka",
    "broker_heartbeat_interval": "strm-transport-kafka",
    "broker_max_poll_interval": "strm-transport-kafka",
    "broker_max_poll_records": "strm-transport-kafka",
    "broker_request_timeout": "strm-transport-kafka",
    "consumer_api_version": "strm-transport-kafka",
    "consumer_max_fetch_size": "strm-transport-kafka",
    "consumer_metadata_max_age_ms": "strm-transport-kafka",
    "consumer_connections_max_idle_ms": "strm-transport-kafka",
    "producer_acks": "strm-transport-kafka",
    "producer_api_version": "strm-transport-kafka",
    "producer_compression_type": "strm-transport-kafka",
    "producer_linger": "strm-transport-kafka",
    "producer_max_batch_size": "strm-transport-kafka",
    "producer_request_timeout": "strm-transport-kafka",
    "producer_metadata_max_age_ms": "strm-transport-kafka",
    "producer_connections_max_idle_ms": "strm-transport-kafka",
}
