"""From strm settings to aiokafka keyword arguments: pure functions, no client, no network.

Each ``*_options`` function returns the keyword arguments one aiokafka client is built with, so
which setting reaches which client option can be read (and tested) without a broker. Settings
whose value aiokafka would reject late, or not at all, are checked here and raise
:class:`strm.kernel.errors.ConfigurationError` naming the setting.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiokafka import codec  # type: ignore[import-untyped]
from aiokafka.abc import AbstractTokenProvider  # type: ignore[import-untyped]
from strm.kernel.auth import (
    Credentials,
    GSSAPICredentials,
    OAuthCredentials,
    SASLCredentials,
    SSLCredentials,
)
from strm.kernel.contexts import SettingsView
from strm.kernel.errors import ConfigurationError
from strm.kernel.redaction import redact_url

SCHEMES = ("kafka", "aiokafka")
DEFAULT_PORT = 9092
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
#: aiokafka sends every request in a version it negotiates with the broker (ApiVersions, Kafka
#: 0.10 and later); it cannot talk to an older broker at all.
MIN_API_VERSION = (0, 10)
#: Record headers arrived with Kafka 0.11.
HEADERS_API_VERSION = (0, 11)
#: How long a consumer waits for a fetch to fill before the broker answers (aiokafka's default).
FETCH_MAX_WAIT_MS = 500

#: Whether aiokafka can compress with a codec (snappy, lz4 and zstd need ``cramjam``).
CODEC_AVAILABLE: dict[str, Callable[[], bool]] = {
    "gzip": codec.has_gzip,
    "snappy": codec.has_snappy,
    "lz4": codec.has_lz4,
    "zstd": codec.has_zstd,
}


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


# -- URLs ----------------------------------------------------------------------------------------


def bootstrap_servers(urls: Sequence[str]) -> list[str]:
    """``host:port`` of every URL (``kafka://h1:9092;h2`` arrives as two URLs); the port
    defaults to 9092 and a missing host to ``localhost``."""
    if not urls:
        raise ConfigurationError("the Kafka transport needs a URL such as 'kafka://localhost:9092'")
    servers: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        shown = redact_url(url)
        if parts.scheme not in SCHEMES:
            raise ConfigurationError(
                f"not a Kafka URL: {shown!r} (the schemes are {', '.join(SCHEMES)})"
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigurationError(
                f"a Kafka URL names brokers only (kafka://host:port;host:port), got {shown!r}"
            )
        if parts.username is not None or parts.password is not None:
            raise ConfigurationError(
                "a Kafka URL cannot carry credentials; use the broker_credentials setting"
            )
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise ConfigurationError(f"bad port in Kafka URL {shown!r}: {exc}") from None
        host = parts.hostname or "localhost"
        servers.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return servers


# -- protocol versions ---------------------------------------------------------------------------


def api_version(conf: SettingsView, setting: str) -> tuple[int, ...] | None:
    """The version a ``*_api_version`` setting names, ``None`` for ``'auto'``."""
    value: str = getattr(conf, setting)
    if value.strip().lower() == "auto":
        return None
    if not re.fullmatch(r"\d+(\.\d+){1,3}", value.strip()):
        raise ConfigurationError(
            f"{setting}={value!r} is not a Kafka version: give 'auto' or a version such as "
            "'2.8' or '0.11.0'"
        )
    version = tuple(int(part) for part in value.strip().split("."))
    if version < MIN_API_VERSION:
        raise ConfigurationError(
            f"{setting}={value!r}: aiokafka negotiates every request's version with the broker "
            "and needs Kafka 0.10 or later"
        )
    return version


def producer_sends_headers(conf: SettingsView) -> bool:
    """Whether produced records keep their headers: not when ``producer_api_version`` names a
    broker older than 0.11, which has no record headers."""
    version = api_version(conf, "producer_api_version")
    return version is None or version >= HEADERS_API_VERSION


# -- credentials ---------------------------------------------------------------------------------


class TokenProvider(AbstractTokenProvider):  # type: ignore[misc]
    """Gives aiokafka the token provider of :class:`strm.OAuthCredentials` when it is not an
    ``aiokafka.abc.AbstractTokenProvider`` itself (any object with ``async token()``)."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    async def token(self) -> str:
        token: str = await self.provider.token()
        return token

    def extensions(self) -> dict[str, str]:
        extensions = getattr(self.provider, "extensions", None)
        return dict(extensions()) if extensions is not None else {}

    def __repr__(self) -> str:
        return f"<TokenProvider of {type(self.provider).__name__}>"


def auth_options(conf: SettingsView) -> dict[str, Any]:
    """``security_protocol`` and the SSL/SASL options of ``broker_credentials`` and
    ``ssl_context``. The result holds secrets: never log it."""
    credentials: Credentials | ssl.SSLContext | None = conf.broker_credentials
    context: ssl.SSLContext | None = conf.ssl_context
    if credentials is None:
        if context is None:
            return {"security_protocol": "PLAINTEXT"}
        return {"security_protocol": "SSL", "ssl_context": context}
    if isinstance(credentials, ssl.SSLContext):
        return {"security_protocol": "SSL", "ssl_context": credentials}
    if isinstance(credentials, SSLCredentials):
        return {"security_protocol": "SSL", "ssl_context": credentials.context}
    if isinstance(credentials, SASLCredentials):
        mechanism = credentials.mechanism.upper()
        if mechanism not in SASL_MECHANISMS:
            raise ConfigurationError(
                f"SASLCredentials mechanism {credentials.mechanism!r} is not one the Kafka "
                f"transport supports: {', '.join(SASL_MECHANISMS)} (GSSAPI and OAUTHBEARER have "
                "credential classes of their own)"
            )
        options = _sasl(credentials.ssl_context or context, mechanism)
        options["sasl_plain_username"] = credentials.username
        options["sasl_plain_password"] = credentials.password
        return options
    if isinstance(credentials, GSSAPICredentials):
        options = _sasl(credentials.ssl_context or context, "GSSAPI")
        options["sasl_kerberos_service_name"] = credentials.kerberos_service_name
        options["sasl_kerberos_domain_name"] = credentials.kerberos_domain_name
        return options
    if isinstance(credentials, OAuthCredentials):
        provider = credentials.oauth_cb
        if not callable(getattr(provider, "token", None)):
            raise ConfigurationError(
                "OAuthCredentials(oauth_cb=...) needs a token provider: an object with an "
                f"async token() method, got {type(provider).__name__}"
            )
        if not isinstance(provider, AbstractTokenProvider):
            provider = TokenProvider(provider)
        options = _sasl(credentials.ssl_context or context, "OAUTHBEARER")
        options["sasl_oauth_token_provider"] = provider
        return options
    raise ConfigurationError(
        f"the Kafka transport does not know the credentials {type(credentials).__name__}: give "
        "SASLCredentials, GSSAPICredentials, OAuthCredentials, SSLCredentials or an "
        "ssl.SSLContext"
    )


def _sasl(context: ssl.SSLContext | None, mechanism: str) -> dict[str, Any]:
    if context is None:
        return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism}
    return {"security_protocol": "SASL_SSL", "sasl_mechanism": mechanism, "ssl_context": context}


# -- clients -------------------------------------------------------------------------------------


def check_timeouts(conf: SettingsView) -> None:
    """The group timeouts must fit together, as the broker and aiokafka require."""
    session: float = conf.broker_session_timeout
    request: float = conf.broker_request_timeout
    heartbeat: float = conf.broker_heartbeat_interval
    if request < session:
        raise ConfigurationError(
            f"broker_request_timeout ({request:g} s) must not be less than "
            f"broker_session_timeout ({session:g} s): a group request can take as long as "
            "the session"
        )
    if heartbeat >= session:
        raise ConfigurationError(
            f"broker_heartbeat_interval ({heartbeat:g} s) must be less than "
            f"broker_session_timeout ({session:g} s), or the member misses its own session"
        )
    if _ms(heartbeat) < 1 or _ms(session) < 1:
        raise ConfigurationError(
            "broker_heartbeat_interval and broker_session_timeout must be at least 1 ms"
        )


def consumer_options(conf: SettingsView, *, group_id: str, client_id: str) -> dict[str, Any]:
    """Keyword arguments of ``aiokafka.AIOKafkaConsumer`` (without ``bootstrap_servers``).

    Offsets are only committed by strm (``enable_auto_commit=False``). The assignment strategy
    is not here: it is the consumer's own :class:`strm_transport_kafka.assignor.StrmAssignor`
    (the app's ``PartitionAssignor``), which :class:`KafkaConsumer` adds when it starts.
    """
    check_timeouts(conf)
    api_version(conf, "consumer_api_version")
    guarantee = getattr(conf.processing_guarantee, "value", conf.processing_guarantee)
    return {
        "group_id": group_id,
        "client_id": client_id,
        "group_instance_id": conf.consumer_group_instance_id,
        "enable_auto_commit": False,
        "auto_offset_reset": conf.consumer_auto_offset_reset,
        "check_crcs": conf.broker_check_crcs,
        "heartbeat_interval_ms": _ms(conf.broker_heartbeat_interval),
        "session_timeout_ms": _ms(conf.broker_session_timeout),
        "max_poll_interval_ms": _ms(conf.broker_max_poll_interval),
        "rebalance_timeout_ms": _ms(conf.broker_rebalance_timeout),
        "request_timeout_ms": _ms(conf.broker_request_timeout),
        "max_poll_records": conf.broker_max_poll_records,
        "max_partition_fetch_bytes": conf.consumer_max_fetch_size,
        "metadata_max_age_ms": conf.consumer_metadata_max_age_ms,
        "connections_max_idle_ms": conf.consumer_connections_max_idle_ms,
        "isolation_level": (
            "read_committed" if guarantee == "exactly_once" else "read_uncommitted"
        ),
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
        **auth_options(conf),
    }


def producer_options(conf: SettingsView, *, client_id: str) -> dict[str, Any]:
    """Keyword arguments of ``aiokafka.AIOKafkaProducer`` (without ``bootstrap_servers``)."""
    api_version(conf, "producer_api_version")
    acks: int = conf.producer_acks
    compression: str | None = conf.producer_compression_type
    if compression is not None and not CODEC_AVAILABLE[compression]():
        raise ConfigurationError(
            f"producer_compression_type={compression!r} needs the cramjam package, which "
            f"aiokafka compresses {compression} with: pip install 'aiokafka[{compression}]'"
        )
    return {
        "client_id": client_id,
        "acks": "all" if acks == -1 else acks,
        "compression_type": compression,
        "linger_ms": _ms(conf.producer_linger),
        "max_batch_size": conf.producer_max_batch_size,
        "max_request_size": conf.producer_max_request_size,
        "request_timeout_ms": _ms(conf.producer_request_timeout),
        "metadata_max_age_ms": conf.producer_metadata_max_age_ms,
        "connections_max_idle_ms": conf.producer_connections_max_idle_ms,
        **auth_options(conf),
    }


def admin_options(conf: SettingsView) -> dict[str, Any]:
    """Keyword arguments of ``aiokafka.admin.AIOKafkaAdminClient`` (without
    ``bootstrap_servers``)."""
    return {
        "client_id": conf.broker_client_id,
        "request_timeout_ms": _ms(conf.broker_request_timeout),
        **auth_options(conf),
    }


def connection_options(options: dict[str, Any]) -> dict[str, Any]:
    """The subset of a client's options that opening one connection takes
    (``aiokafka.conn.create_conn``), to find out why a bootstrap failed."""
    names = (
        "client_id",
        "request_timeout_ms",
        "security_protocol",
        "ssl_context",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
        "sasl_kerberos_service_name",
        "sasl_kerberos_domain_name",
        "sasl_oauth_token_provider",
    )
    return {name: options[name] for name in names if name in options}


__all__ = [
    "CODEC_AVAILABLE",
    "SASL_MECHANISMS",
    "SCHEMES",
    "TokenProvider",
    "admin_options",
    "api_version",
    "auth_options",
    "bootstrap_servers",
    "check_timeouts",
    "connection_options",
    "consumer_options",
    "producer_options",
    "producer_sends_headers",
]
