"""The transport factory: ``KafkaTransport(app=app, urls=[...])`` makes consumers, producers and
admin clients for the brokers the URLs name, configured from the app's settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strm.assignor import PartitionAssignor, advertised_url

from strm_transport_kafka import options
from strm_transport_kafka.admin import KafkaAdmin
from strm_transport_kafka.consumer import KafkaConsumer
from strm_transport_kafka.producer import KafkaProducer, KafkaTransactionalProducer

if TYPE_CHECKING:
    from strm.app import App


class KafkaTransport:
    """Clients of one Kafka cluster: ``kafka://h1:9092;h2:9092`` gives both brokers as
    bootstrap servers. The settings are checked here, when the app first needs the transport,
    so a bad combination fails at start-up rather than at the first rebalance."""

    #: Its producers make their aiokafka client on the loop that starts them, so one can run on
    #: a thread of its own (``producer_threaded``).
    producer_runs_in_thread = True

    def __init__(self, *, app: App, urls: Sequence[str]) -> None:
        self.app = app
        self.urls = list(urls)
        self.servers = options.bootstrap_servers(urls)
        conf = app.conf
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
        timeout: float = self.app.conf.broker_request_timeout
        return timeout

    def create_consumer(self, *, group_id: str, client_id: str) -> KafkaConsumer:
        conf = self.app.conf
        return KafkaConsumer(
            servers=self.servers,
            options=options.consumer_options(conf, group_id=group_id, client_id=client_id),
            start_timeout=self.start_timeout,
            assignment_timeout=conf.broker_rebalance_timeout,
            assignor=self._assignor,
            changelogs=self._changelogs,
            url=self._advertised_url,
        )

    def _assignor(self) -> PartitionAssignor:
        """The app's partition assignor, made for each assignment this app leads."""
        cls: type[PartitionAssignor] = self.app.extension_class("PartitionAssignor")
        return cls(self.app)

    def _changelogs(self) -> set[str]:
        """The changelog topics of the app's tables, which get standby copies."""
        return self.app.tables.changelog_names

    def _advertised_url(self) -> str:
        """The URL this worker's web server is reached at, sent to the group's leader."""
        return advertised_url(self.app)

    def create_producer(
        self, *, client_id: str, transactional_id: str | None = None
    ) -> KafkaProducer:
        conf = self.app.conf
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
            options=options.admin_options(self.app.conf),
            timeout=self.start_timeout,
        )


__all__ = ["KafkaTransport"]
