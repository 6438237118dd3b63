"""strm plugin: the app's metrics to Datadog's DogStatsD, with tags (the ``datadog`` sensor)."""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_sensor_datadog.sensor import DatadogSensor, datadog_sensor
from strm_sensor_datadog.settings import SETTINGS

__all__ = ["DatadogSensor", "strm_sensors", "strm_settings"]


@strm.hookimpl
def strm_sensors() -> list[Provision]:
    return [records.sensor("datadog", datadog_sensor, description="DogStatsD over UDP, with tags")]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)
