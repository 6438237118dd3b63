"""The transport factory: ``KafkaTransport(context=..., urls=[...])`` makes consumers, producers
and admin clients for the brokers the URLs name, configured from the settings of its
:class:`strm.kernel.contexts.TransportContext`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strm.kernel.contexts import TransportContext

from strm_transport_kafka import options
from strm_transport_kafka.admin import KafkaAdmin
from strm_transport_kafka.consumer import KafkaConsumer
from strm_transport_kafka.producer import KafkaProducer, KafkaTransactionalProducer


class KafkaTransport:
    """Clients of one Kafka cluster: ``kafka://h1:9092;h2:9092`` gives both brokers as
    bootstrap servers. The settings are checked here, when the app first needs the transport,
    so a bad combination fails at start-up rather than at the first rebalance."""

    #: Its producers make their aiokafka client on the loop that starts them, so one can run on
    #: a thread of its own (``producer_threaded``).
    producer_runs_in_thread = True

    def __init__(self, *, context: TransportContext, urls: Sequence[str], **_: Any) -> None:
        self.context = context
        self.urls = list(urls)
        self.servers = options.bootstrap_servers(urls)
        conf = context.conf
        options.check_timeouts(conf)
        options.api_version(conf, "broker_api_version")
        options.api_version(conf, "consumer_api_version")
        options.producer_options(conf, client_id=conf.broker_client_id)
        options.auth_options(conf)

    def __repr__(self) -> str:
        return f"<KafkaTransport {','.join(self.servers)}>"

    @property
    def start_timeout(self) -> float:
        """How long a client keeps trying to reach the brokers at start
        (``broker_request_timeout``)."""
        timeout: float = self.context.conf.broker_request_timeout
        return timeout

    def create_consumer(self, *, group_id: str, client_id: str) -> KafkaConsumer:
        conf = self.context.conf
        return KafkaConsumer(
            servers=self.servers,
            options=options.consumer_options(conf, group_id=group_id, client_id=client_id),
            start_timeout=self.start_timeout,
            assignment_timeout=conf.broker_rebalance_timeout,
            assignor=self.context.assignor,
            changelogs=self.context.changelog_topics,
            url=self.context.advertised_url,
        )

    def create_producer(
        self, *, client_id: str, transactional_id: str | None = None
    ) -> KafkaProducer:
        conf = self.context.conf
        producer_options = options.producer_options(conf, client_id=client_id)
        cls = KafkaProducer
        if transactional_id is not None:
            # Transactions need an idempotent producer acknowledged by every in-sync replica.
            producer_options.update(
                transactional_id=transactional_id, enable_idempotence=True, acks="all"
            )
            cls = KafkaTransactionalProducer
        return cls(
            servers=self.servers,
            options=producer_options,
            start_timeout=self.start_timeout,
            headers=options.producer_sends_headers(conf),
        )

    def create_admin(self) -> KafkaAdmin:
        return KafkaAdmin(
            servers=self.servers,
            options=options.admin_options(self.context.conf),
            timeout=self.start_timeout,
        )


__all__ = ["KafkaTransport"]
