"""The Monitor's and the other sensors' figures, and this worker's partitions, as JSON.

Mounted at ``/stats/`` when ``debug`` is on; any app can mount it itself with
``blueprint.register(app, url_prefix='/stats/')``. It tells whoever can reach the port what the
worker reads and how much, so it is not served by default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from strm.kernel.spi import TP
from strm.web.blueprints import Blueprint
from strm.web.http import Request, Response
from strm.web.views import View

blueprint = Blueprint("monitor")


@blueprint.route("/", name="index")
class Stats(View):
    """Each sensor's ``asdict()``, as ``Sensor0`` (the Monitor), ``Sensor1``, ..."""

    async def get(self, request: Request) -> Response:
        figures: dict[str, Any] = {}
        for i, sensor in enumerate(self.app.sensors.sensors):
            asdict = getattr(sensor, "asdict", None)
            if callable(asdict):
                figures[f"Sensor{i}"] = asdict()
        return self.json(figures)


@blueprint.route("/assignment/", name="assignment")
class Assignment(View):
    """The partitions this worker reads (actives) and holds as standby copies."""

    async def get(self, request: Request) -> Response:
        consumer = self.app.conductor.consumer
        if consumer is None:
            return self.json({"actives": {}, "standbys": {}})
        return self.json(
            {
                "actives": _by_topic(consumer.assignment()),
                "standbys": _by_topic(consumer.standbys()),
            }
        )


def _by_topic(tps: Iterable[TP]) -> dict[str, list[int]]:
    grouped: defaultdict[str, list[int]] = defaultdict(list)
    for tp in sorted(tps):
        grouped[tp.topic].append(tp.partition)
    return dict(grouped)


__all__ = ["Assignment", "Stats", "blueprint"]
