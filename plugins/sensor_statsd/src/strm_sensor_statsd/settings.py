"""The StatsD sensor's settings, declared through ``strm_settings``.

Faust takes these as arguments of ``StatsdMonitor(host=, port=, prefix=, rate=)``; strm makes
them settings, so an environment variable or the command line can point a deployed worker at
its daemon. The defaults are Faust's. Public: the Datadog plugin declares its settings with
:func:`udp_settings` too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Bool, Int, Seconds, SettingType

_HOST = re.compile(r"[A-Za-z0-9._\-]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+")
_PREFIX = re.compile(r"[A-Za-z0-9_.\-]*")


class Host(SettingType):
    """A host name or an IP address, without a scheme or a port."""

    name = "host"

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str) or not _HOST.fullmatch(value.strip()):
            raise ValueError(
                f"expected a host name or an IP address (no scheme, no port), got {value!r}"
            )
        return value.strip().strip("[]")


class SampleRate(SettingType):
    """A sampling rate: more than 0, at most 1."""

    name = "rate (0 < rate <= 1)"

    def coerce(self, value: Any) -> float:
        try:
            rate = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"expected a number between 0 (excluded) and 1, got {value!r}"
            ) from None
        if isinstance(value, bool) or not 0.0 < rate <= 1.0:
            raise ValueError(f"expected a number between 0 (excluded) and 1, got {value!r}")
        return rate


class MetricPrefix(SettingType):
    """The first part of every metric name: letters, digits, ``_``, ``-`` and ``.``."""

    name = "metric prefix"

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str) or not _PREFIX.fullmatch(value):
            raise ValueError(f"expected letters, digits, '_', '-' and '.' only, got {value!r}")
        return value.strip(".")


def udp_settings(
    prefix: str, section: str, *, env: Mapping[str, str], metric_prefix: str
) -> tuple[Setting, ...]:
    """The settings of a sensor that sends to a StatsD-speaking daemon: ``<prefix>_enabled``,
    ``_host``, ``_port``, ``_prefix``, ``_rate`` and ``_gauge_interval``, with the environment
    variables ``env`` names (by the part after the prefix: ``{"host": "STATSD_HOST", ...}``)."""
    return (
        Setting(
            f"{prefix}_enabled",
            Bool(),
            f"Send the app's metrics with the {prefix} sensor. Off by default: installing the "
            "plugin alone sends nothing.",
            default=False,
            env=env["enabled"],
            section=section,
        ),
        Setting(
            f"{prefix}_host",
            Host(),
            f"Host of the daemon the {prefix} sensor sends to.",
            default="localhost",
            env=env["host"],
            section=section,
        ),
        Setting(
            f"{prefix}_port",
            Int(min=1, max=65535),
            "UDP port of the daemon.",
            default=8125,
            env=env["port"],
            section=section,
        ),
        Setting(
            f"{prefix}_prefix",
            MetricPrefix(),
            "Prefix of every metric name (joined with a dot; empty for none).",
            default=metric_prefix,
            env=env["prefix"],
            section=section,
        ),
        Setting(
            f"{prefix}_rate",
            SampleRate(),
            "Sampling rate of counters and timers (gauges are always sent).",
            default=1.0,
            env=env["rate"],
            section=section,
        ),
        Setting(
            f"{prefix}_gauge_interval",
            Seconds(min=0.01),
            "How often lag, offsets and table sizes are read and sent, in seconds.",
            default=10.0,
            env=env["gauge_interval"],
            section=section,
        ),
    )


SETTINGS: tuple[Setting, ...] = udp_settings(
    "statsd",
    "StatsD",
    env={
        "enabled": "STATSD_ENABLED",
        "host": "STATSD_HOST",
        "port": "STATSD_PORT",
        "prefix": "STATSD_PREFIX",
        "rate": "STATSD_RATE",
        "gauge_interval": "STATSD_GAUGE_INTERVAL",
    },
    metric_prefix="faust-app",
)
