"""Faust's ``DatadogMonitor`` as a strm sensor: the StatsD sensor with DogStatsD tags.

The metric names are the ids of :data:`strm_sensor_statsd.naming.METRICS`, which are Faust's
Datadog names where Faust has the figure; the topic, partition, agent and table are tags
(``messages_received:40|c|#topic:orders,partition:0``), never parts of the name, so one metric
covers every topic and a dashboard groups by tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strm.sensors import Sensor
from strm_sensor_statsd.client import StatsdClient
from strm_sensor_statsd.naming import tagged_naming
from strm_sensor_statsd.sensor import UdpMetricsSensor

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


class DatadogSensor(UdpMetricsSensor):
    """Settings ``datadog_*``; ``datadog_tags`` go on every line."""

    def __init__(self, app: AppLike) -> None:
        conf: Any = app.conf
        client = StatsdClient(
            conf.datadog_host,
            conf.datadog_port,
            prefix=conf.datadog_prefix,
            rate=conf.datadog_rate,
            constant_tags=conf.datadog_tags,
            setting_prefix="datadog",
        )
        super().__init__(app, client, tagged_naming, conf.datadog_gauge_interval)


def datadog_sensor(app: AppLike) -> Sensor:
    """The ``datadog`` sensor when ``datadog_enabled`` is on; otherwise a sensor that overrides
    nothing, which strm never calls."""
    return DatadogSensor(app) if app.conf.datadog_enabled else Sensor()
