"""The OpenTelemetry sensor's settings, declared through ``strm_settings``.

The providers are objects, given in code (``App(..., otel_meter_provider=provider)``); left
unset, the sensor uses OpenTelemetry's global providers, which the SDK's own setup (or
``opentelemetry-instrument``) sets. The environment variables start with ``STRM_OTEL_``:
``OTEL_*`` belongs to OpenTelemetry's own configuration.
"""

from __future__ import annotations

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Bool, InstanceOf, Seconds

SECTION = "OpenTelemetry"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "otel_enabled",
        Bool(),
        "Record the app's metrics with the otel sensor. Off by default: installing the plugin "
        "alone records nothing.",
        default=False,
        env="STRM_OTEL_ENABLED",
        section=SECTION,
    ),
    Setting(
        "otel_meter_provider",
        InstanceOf(MeterProvider, name="an opentelemetry.metrics.MeterProvider", optional=True),
        "MeterProvider of the app's metrics; None for OpenTelemetry's global one.",
        default=None,
        section=SECTION,
    ),
    Setting(
        "otel_event_spans",
        Bool(),
        "A span per event an agent processes and per record sent, with W3C trace context "
        "in the records' headers.",
        default=False,
        env="STRM_OTEL_EVENT_SPANS",
        section=SECTION,
    ),
    Setting(
        "otel_tracer_provider",
        InstanceOf(TracerProvider, name="an opentelemetry.trace.TracerProvider", optional=True),
        "TracerProvider of the per-event spans; None for OpenTelemetry's global one.",
        default=None,
        section=SECTION,
    ),
    Setting(
        "otel_gauge_interval",
        Seconds(min=0.01),
        "How often lag, offsets and table sizes are read for the observable gauges, in seconds.",
        default=10.0,
        env="STRM_OTEL_GAUGE_INTERVAL",
        section=SECTION,
    ),
)
