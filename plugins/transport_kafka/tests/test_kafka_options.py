"""Which setting reaches which aiokafka option: the pure option builders, no broker needed
(one test starts real clients to check the options are the ones they run with)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import pytest
import strm
from aiokafka.abc import AbstractTokenProvider  # type: ignore[import-untyped]
from strm.app import App
from strm.kernel.errors import ConfigurationError
from strm.kernel.settings.conf import Conf
from strm.testing.contexts import transport_context
from strm.testing.pytest_plugin import AppFactory
from strm_transport_kafka import (
    KafkaTransport,
    admin_options,
    consumer_options,
    producer_options,
)
from strm_transport_kafka import options as options_module
from strm_transport_kafka.options import (
    auth_options,
    bootstrap_servers,
    producer_sends_headers,
)


@pytest.fixture
def conf(strm_app_factory: AppFactory) -> Callable[..., Conf]:
    """``conf(**settings)``: the resolved settings of an app on ``kafka://`` (no network)."""

    def make(**settings: Any) -> Conf:
        settings.setdefault("broker", "kafka://localhost:9092")
        app: App = strm_app_factory(plugins=["strm_transport_kafka"], **settings).configure()
        return app.conf

    return make


def consumer(conf: Conf) -> dict[str, Any]:
    return consumer_options(conf, group_id="g", client_id="c")


# -- URLs -----------------------------------------------------------------------------------------


def test_every_url_is_a_bootstrap_server() -> None:
    assert bootstrap_servers(["kafka://h1:9092", "kafka://h2"]) == ["h1:9092", "h2:9092"]
    assert bootstrap_servers(["aiokafka://10.0.0.1:19092"]) == ["10.0.0.1:19092"]
    assert bootstrap_servers(["kafka://[::1]:9093"]) == ["[::1]:9093"]
    assert bootstrap_servers(["kafka://"]) == ["localhost:9092"]


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        ([], "needs a URL"),
        (["memory://"], "not a Kafka URL"),
        (["kafka://h:9092/path"], "names brokers only"),
        (["kafka://h:9092?x=1"], "names brokers only"),
        (["kafka://user:pw@h:9092"], "cannot carry credentials"),
        (["kafka://h:99999"], "bad port"),
    ],
)
def test_bad_urls_are_refused(urls: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        bootstrap_servers(urls)


@pytest.mark.parametrize("url", ["kafka://u:s3cret@h:9092/path", "memcache://u:s3cret@h"])
def test_a_refused_url_is_quoted_without_its_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        bootstrap_servers([url])
    assert "s3cret" not in str(info.value)
    assert "u:***@h" in str(info.value)


def test_a_semicolon_list_in_the_broker_setting_gives_every_host(
    strm_app_factory: AppFactory,
) -> None:
    app = strm_app_factory(
        plugins=["strm_transport_kafka"], broker="kafka://h1:9092;h2:9093"
    ).configure()
    transport = app.transport()
    assert isinstance(transport, KafkaTransport)
    assert transport.servers == ["h1:9092", "h2:9093"]
    assert app.resolve_backend("broker", "aiokafka://h").factory is KafkaTransport


# -- consumer -------------------------------------------------------------------------------------


def test_consumer_defaults(conf: Callable[..., Conf]) -> None:
    options = consumer(conf())
    assert options == {
        "group_id": "g",
        "client_id": "c",
        "group_instance_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "check_crcs": True,
        "heartbeat_interval_ms": 3000,
        "session_timeout_ms": 60_000,
        "max_poll_interval_ms": 1_000_000,
        "rebalance_timeout_ms": 60_000,
        "request_timeout_ms": 90_000,
        "max_poll_records": None,
        "max_partition_fetch_bytes": 1_048_576,
        "metadata_max_age_ms": 300_000,
        "connections_max_idle_ms": 540_000,
        "isolation_level": "read_uncommitted",
        "fetch_max_wait_ms": 500,
        "security_protocol": "PLAINTEXT",
    }


@pytest.mark.parametrize(
    ("setting", "value", "option", "expected"),
    [
        ("broker_check_crcs", False, "check_crcs", False),
        ("broker_heartbeat_interval", 1.5, "heartbeat_interval_ms", 1500),
        ("broker_session_timeout", 30.0, "session_timeout_ms", 30_000),
        ("broker_max_poll_interval", 120.0, "max_poll_interval_ms", 120_000),
        ("broker_max_poll_records", 500, "max_poll_records", 500),
        ("broker_rebalance_timeout", 20.0, "rebalance_timeout_ms", 20_000),
        ("broker_request_timeout", 100.0, "request_timeout_ms", 100_000),
        ("consumer_max_fetch_size", 4096, "max_partition_fetch_bytes", 4096),
        ("consumer_auto_offset_reset", "latest", "auto_offset_reset", "latest"),
        ("consumer_auto_offset_reset", "none", "auto_offset_reset", "none"),
        ("consumer_group_instance_id", "worker-1", "group_instance_id", "worker-1"),
        ("consumer_metadata_max_age_ms", 1000, "metadata_max_age_ms", 1000),
        ("consumer_connections_max_idle_ms", 60_000, "connections_max_idle_ms", 60_000),
    ],
)
def test_each_consumer_setting_reaches_its_option(
    conf: Callable[..., Conf], setting: str, value: Any, option: str, expected: Any
) -> None:
    assert consumer(conf(**{setting: value}))[option] == expected


def test_the_client_id_comes_from_broker_client_id(strm_app_factory: AppFactory) -> None:
    app = strm_app_factory(
        plugins=["strm_transport_kafka"], broker="kafka://h", broker_client_id="billing"
    ).configure()
    transport = KafkaTransport(context=transport_context(conf=app.conf), urls=app.conf.broker)
    # The kernel passes broker_client_id to create_consumer/create_producer itself.
    assert transport.create_consumer(group_id="g", client_id="billing").client_id == "billing"
    assert admin_options(app.conf)["client_id"] == "billing"


def test_exactly_once_reads_committed(conf: Callable[..., Conf]) -> None:
    """processing_guarantee stays pending (no transactions yet), but the consumer side of it is
    ready: a conf that says exactly_once gets read_committed."""

    class ExactlyOnce:
        def __init__(self, conf: Conf) -> None:
            self._conf = conf

        def __getattr__(self, name: str) -> Any:
            if name == "processing_guarantee":
                return strm.ProcessingGuarantee.EXACTLY_ONCE
            return getattr(self._conf, name)

    eos = consumer_options(ExactlyOnce(conf()), group_id="g", client_id="c")  # type: ignore[arg-type]
    assert eos["isolation_level"] == "read_committed"


def test_request_timeout_below_session_timeout_is_refused(conf: Callable[..., Conf]) -> None:
    bad = conf(broker_session_timeout=30.0, broker_request_timeout=20.0)
    with pytest.raises(
        ConfigurationError,
        match=r"broker_request_timeout \(20 s\) must not be less than broker_session_timeout "
        r"\(30 s\)",
    ):
        consumer(bad)
    with pytest.raises(ConfigurationError, match="broker_request_timeout"):
        KafkaTransport(context=transport_context(conf=bad), urls=["kafka://h"])


def test_heartbeat_must_be_below_the_session_timeout(conf: Callable[..., Conf]) -> None:
    with pytest.raises(ConfigurationError, match=r"broker_heartbeat_interval .* less than"):
        consumer(conf(broker_heartbeat_interval=10.0, broker_session_timeout=10.0))


# -- producer -------------------------------------------------------------------------------------


def test_producer_defaults(conf: Callable[..., Conf]) -> None:
    assert producer_options(conf(), client_id="p") == {
        "client_id": "p",
        "acks": "all",
        "compression_type": None,
        "linger_ms": 0,
        "max_batch_size": 16_384,
        "max_request_size": 1_000_000,
        "request_timeout_ms": 1_200_000,
        "metadata_max_age_ms": 300_000,
        "connections_max_idle_ms": 540_000,
        "security_protocol": "PLAINTEXT",
    }


@pytest.mark.parametrize(
    ("setting", "value", "option", "expected"),
    [
        ("producer_acks", -1, "acks", "all"),
        ("producer_acks", 0, "acks", 0),
        ("producer_acks", 1, "acks", 1),
        ("producer_compression_type", "gzip", "compression_type", "gzip"),
        ("producer_linger", 0.05, "linger_ms", 50),
        ("producer_max_batch_size", 65_536, "max_batch_size", 65_536),
        ("producer_max_request_size", 2_000_000, "max_request_size", 2_000_000),
        ("producer_request_timeout", 30.0, "request_timeout_ms", 30_000),
        ("producer_metadata_max_age_ms", 5000, "metadata_max_age_ms", 5000),
        ("producer_connections_max_idle_ms", 9000, "connections_max_idle_ms", 9000),
    ],
)
def test_each_producer_setting_reaches_its_option(
    conf: Callable[..., Conf], setting: str, value: Any, option: str, expected: Any
) -> None:
    assert producer_options(conf(**{setting: value}), client_id="p")[option] == expected


def test_a_codec_aiokafka_cannot_use_is_refused_at_once(
    conf: Callable[..., Conf], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(options_module.CODEC_AVAILABLE, "zstd", lambda: False)
    with pytest.raises(
        ConfigurationError, match=r"producer_compression_type='zstd' needs the cramjam"
    ):
        producer_options(conf(producer_compression_type="zstd"), client_id="p")


def test_admin_options(conf: Callable[..., Conf]) -> None:
    assert admin_options(conf(broker_request_timeout=75.0, broker_client_id="adm")) == {
        "client_id": "adm",
        "request_timeout_ms": 75_000,
        "security_protocol": "PLAINTEXT",
    }


# -- protocol versions ----------------------------------------------------------------------------


def test_api_versions(conf: Callable[..., Conf]) -> None:
    assert producer_sends_headers(conf())
    assert producer_sends_headers(conf(broker_api_version="2.8"))
    assert not producer_sends_headers(conf(broker_api_version="0.10.2"))
    assert not producer_sends_headers(conf(producer_api_version="0.10.1"))
    assert producer_sends_headers(conf(broker_api_version="0.10", producer_api_version="auto"))
    for setting, value, message in [
        ("broker_api_version", "latest", "is not a Kafka version"),
        ("consumer_api_version", "0.9.0", "needs Kafka 0.10 or later"),
        ("producer_api_version", "0.8", "needs Kafka 0.10 or later"),
    ]:
        with pytest.raises(ConfigurationError, match=f"{setting}=.*{message}"):
            KafkaTransport(
                context=transport_context(conf=conf(**{setting: value})), urls=["kafka://h"]
            )


# -- credentials ----------------------------------------------------------------------------------


def test_no_credentials_is_plaintext_and_an_ssl_context_is_ssl(conf: Callable[..., Conf]) -> None:
    context = ssl.create_default_context()
    assert auth_options(conf()) == {"security_protocol": "PLAINTEXT"}
    assert auth_options(conf(ssl_context=context)) == {
        "security_protocol": "SSL",
        "ssl_context": context,
    }
    assert auth_options(conf(broker_credentials=context)) == {
        "security_protocol": "SSL",
        "ssl_context": context,
    }
    assert auth_options(conf(broker_credentials=strm.SSLCredentials(context))) == {
        "security_protocol": "SSL",
        "ssl_context": context,
    }


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "scram-sha-512"])
def test_sasl_credentials(conf: Callable[..., Conf], mechanism: str) -> None:
    credentials = strm.SASLCredentials("alice", "s3cret", mechanism=mechanism)
    options = auth_options(conf(broker_credentials=credentials))
    assert options == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism.upper(),
        "sasl_plain_username": "alice",
        "sasl_plain_password": "s3cret",
    }
    assert "s3cret" not in repr(credentials)
    context = ssl.create_default_context()
    with_tls = strm.SASLCredentials("alice", "s3cret", mechanism=mechanism, ssl_context=context)
    options = consumer(conf(broker_credentials=with_tls))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"] is context
    # ssl_context, the setting, serves SASL credentials that have no context of their own.
    options = producer_options(
        conf(broker_credentials=credentials, ssl_context=context), client_id="p"
    )
    assert (options["security_protocol"], options["ssl_context"]) == ("SASL_SSL", context)


def test_an_unknown_sasl_mechanism_is_refused(conf: Callable[..., Conf]) -> None:
    credentials = strm.SASLCredentials("alice", "s3cret", mechanism="DIGEST-MD5")
    with pytest.raises(ConfigurationError, match="DIGEST-MD5") as info:
        auth_options(conf(broker_credentials=credentials))
    assert "s3cret" not in str(info.value)


def test_gssapi_credentials(conf: Callable[..., Conf]) -> None:
    credentials = strm.GSSAPICredentials(kerberos_service_name="kfk", kerberos_domain_name="ex")
    assert auth_options(conf(broker_credentials=credentials)) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "GSSAPI",
        "sasl_kerberos_service_name": "kfk",
        "sasl_kerberos_domain_name": "ex",
    }


async def test_oauth_credentials_wrap_any_token_provider(conf: Callable[..., Conf]) -> None:
    class Tokens:
        async def token(self) -> str:
            return "tok"

        def extensions(self) -> dict[str, str]:
            return {"traceid": "1"}

    options = auth_options(conf(broker_credentials=strm.OAuthCredentials(Tokens())))
    provider = options.pop("sasl_oauth_token_provider")
    assert options == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER"}
    assert isinstance(provider, AbstractTokenProvider)
    assert await provider.token() == "tok"
    assert provider.extensions() == {"traceid": "1"}

    class Native(AbstractTokenProvider):  # type: ignore[misc]
        async def token(self) -> str:
            return "native"

    native = Native()
    options = auth_options(conf(broker_credentials=strm.OAuthCredentials(native)))
    assert options["sasl_oauth_token_provider"] is native
    with pytest.raises(ConfigurationError, match="needs a token provider"):
        auth_options(conf(broker_credentials=strm.OAuthCredentials(object())))


def test_unknown_credentials_are_refused(conf: Callable[..., Conf]) -> None:
    class Mine(strm.Credentials):
        pass

    with pytest.raises(ConfigurationError, match="does not know the credentials Mine"):
        auth_options(conf(broker_credentials=Mine()))
