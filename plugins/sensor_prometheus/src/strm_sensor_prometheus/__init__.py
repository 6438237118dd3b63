"""strm plugin: Prometheus metrics of a worker, through prometheus_client.

It attaches a sensor to every app (``strm_sensors``) and serves ``/metrics`` on the worker's
web server (``strm_web_routes``). Under ``strm worker --processes N`` it names a directory the
children share (``strm_worker_processes``), so that any child's ``/metrics`` shows the figures
of all of them. See README.md for every metric.
"""

from __future__ import annotations

from typing import Any

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.web import WebRoute

from strm_sensor_prometheus import multiprocess
from strm_sensor_prometheus.sensor import PrometheusSensor
from strm_sensor_prometheus.view import PATH, Metrics

__all__ = [
    "Metrics",
    "PrometheusSensor",
    "strm_sensors",
    "strm_web_routes",
    "strm_worker_processes",
]


@strm.hookimpl
def strm_sensors() -> list[Provision]:
    return [
        records.sensor(
            "prometheus", PrometheusSensor, description="Prometheus metrics (prometheus_client)"
        )
    ]


@strm.hookimpl
def strm_web_routes(app: Any) -> list[WebRoute]:
    return [WebRoute(PATH, Metrics, name="metrics")]


@strm.hookimpl
def strm_worker_processes(app: Any, processes: int, environ: dict[str, str]) -> None:
    multiprocess.prepare(environ, str(app.conf.datadir))
