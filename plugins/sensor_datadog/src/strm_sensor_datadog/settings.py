"""The Datadog sensor's settings: those of any StatsD sensor (``strm_sensor_statsd.settings``)
under ``datadog_``, and the tags put on every metric.

The environment variables are the Datadog agent's own where it has them (``DD_AGENT_HOST``,
``DD_DOGSTATSD_PORT``, ``DATADOG_TAGS``), so a worker deployed beside an agent that injects them
needs no configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import SettingType
from strm_sensor_statsd.client import tag
from strm_sensor_statsd.settings import udp_settings

_TAG = re.compile(r"[^\s,|#:][^\s,|#]*")


class TagList(SettingType):
    """DogStatsD tags: a mapping, a list of ``key:value`` (or bare) tags, or their text joined
    by commas (from an environment variable)."""

    name = "tags (a mapping, a list of 'key:value', or 'a:1,b:2')"

    def coerce(self, value: Any) -> tuple[str, ...]:
        if isinstance(value, Mapping):
            return tuple(tag(str(k), v) for k, v in value.items())
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, Sequence) or not all(isinstance(t, str) for t in value):
            raise ValueError(f"expected {self.name}, got {value!r}")
        bad = [t for t in value if not _TAG.fullmatch(t)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a DogStatsD tag: no spaces, ',', '|' or '#', and not "
                "starting with ':'"
            )
        return tuple(value)


SETTINGS: tuple[Setting, ...] = (
    *udp_settings(
        "datadog",
        "Datadog",
        env={
            "enabled": "DATADOG_ENABLED",
            "host": "DD_AGENT_HOST",
            "port": "DD_DOGSTATSD_PORT",
            "prefix": "DATADOG_PREFIX",
            "rate": "DATADOG_RATE",
            "gauge_interval": "DATADOG_GAUGE_INTERVAL",
        },
        metric_prefix="faust-app",
    ),
    Setting(
        "datadog_tags",
        TagList(),
        "Tags put on every metric (env: 'env:prod,team:orders').",
        default=(),
        env="DATADOG_TAGS",
        section="Datadog",
    ),
)
