"""strm plugin: the app's metrics to Datadog's DogStatsD, with tags (the ``datadog`` sensor)."""

from __future__ import annotations

import strm
from strm import records
from strm.records import Provision
from strm.settings.setting import Setting

from strm_sensor_datadog.sensor import DatadogSensor, datadog_sensor
from strm_sensor_datadog.settings import SETTINGS

__all__ = ["DatadogSensor", "strm_sensors", "strm_settings"]


@strm.hookimpl
def strm_sensors() -> list[Provision]:
    return [records.sensor("datadog", datadog_sensor, description="DogStatsD over UDP, with tags")]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)
