"""strm plugin: OpenTelemetry metrics of the app and, with ``otel_event_spans``, a span per
event (the ``otel`` sensor)."""

from __future__ import annotations

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_sensor_otel.sensor import OtelSensor, otel_sensor
from strm_sensor_otel.settings import SETTINGS
from strm_sensor_otel.spans import OtelEventTracer

__all__ = ["OtelEventTracer", "OtelSensor", "strm_sensors", "strm_settings"]


@strm.hookimpl
def strm_sensors() -> list[Provision]:
    return [
        records.sensor(
            "otel", otel_sensor, description="OpenTelemetry metrics and, optionally, event spans"
        )
    ]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return list(SETTINGS)
