"""``/metrics``: the exposition text Prometheus scrapes, on the worker's own web server."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST
from strm.web import Request, Response, View

from strm_sensor_prometheus.sensor import PrometheusSensor

#: prometheus_client's content type without its charset, which the response adds.
CONTENT_TYPE = "; ".join(
    part.strip() for part in CONTENT_TYPE_LATEST.split(";") if "charset" not in part
)
#: The path served (Faust's prometheus sensor serves the same one).
PATH = "/metrics"


class Metrics(View):
    """The app's figures in Prometheus' text format (``CONTENT_TYPE_LATEST``)."""

    async def get(self, request: Request) -> Response:
        sensor = find_sensor(self.app.sensors.sensors)
        if sensor is None:
            return self.error(
                503, "strm-sensor-prometheus is loaded but its sensor is not attached to the app"
            )
        response = self.bytes(sensor.render(), content_type=CONTENT_TYPE)
        response.charset = "utf-8"
        response.headers["Cache-Control"] = "no-store"
        return response


def find_sensor(sensors: Iterable[object]) -> PrometheusSensor | None:
    for sensor in sensors:
        if isinstance(sensor, PrometheusSensor):
            return sensor
    return None


__all__ = ["PATH", "Metrics", "find_sensor"]
