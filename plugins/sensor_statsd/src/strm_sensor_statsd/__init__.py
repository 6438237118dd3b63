"""strm plugin: the app's metrics to a StatsD daemon over UDP (the ``statsd`` sensor)."""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_sensor_statsd.client import StatsdClient
from strm_sensor_statsd.sensor import StatsdSensor, UdpMetricsSensor, statsd_sensor
from strm_sensor_statsd.settings import SETTINGS

__all__ = ["StatsdClient", "StatsdSensor", "UdpMetricsSensor", "strm_sensors", "strm_settings"]


@strm.hookimpl
def strm_sensors() -> list[Provision]:
    return [records.sensor("statsd", statsd_sensor, description="StatsD over UDP")]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)
