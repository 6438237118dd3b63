"""strm-transport-kafka: the Kafka transport, on aiokafka, under the schemes ``kafka://`` and
``aiokafka://``.

This module is the plugin: strm registers it through the entry point ``transport_kafka`` of
group ``strm``, or by ``--plugin strm_transport_kafka``. ``App(broker='kafka://host:9092')`` then
reads and writes topics on that cluster, as a consumer group named after the app. The plugin
also declares the settings only a Kafka client acts on (:mod:`strm_transport_kafka.settings`).
"""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_transport_kafka.admin import KafkaAdmin
from strm_transport_kafka.assignor import StrmAssignor
from strm_transport_kafka.consumer import KafkaConsumer
from strm_transport_kafka.options import (
    SCHEMES,
    admin_options,
    consumer_options,
    producer_options,
)
from strm_transport_kafka.producer import Delivery, KafkaProducer
from strm_transport_kafka.settings import SETTINGS
from strm_transport_kafka.transport import KafkaTransport


@strm.hookimpl
def strm_transports() -> list[Provision]:
    return [
        records.transport(
            scheme, KafkaTransport, description="Apache Kafka through aiokafka (consumer groups)"
        )
        for scheme in SCHEMES
    ]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)


__all__ = [
    "Delivery",
    "KafkaAdmin",
    "KafkaConsumer",
    "KafkaProducer",
    "KafkaTransport",
    "StrmAssignor",
    "admin_options",
    "consumer_options",
    "producer_options",
]
