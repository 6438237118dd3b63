"""The figures read at scrape time rather than pushed: lag and offsets per partition, table
sizes and recovery, from :func:`strm.runtime.gauges.read_gauges` (the consumer's and the stores' own
state, no I/O).

In one process a custom collector reads them when ``/metrics`` is scraped. In multi-process mode
the scraped process cannot read its siblings' consumers, so each process writes its own into
prometheus_client's shared files every :data:`REFRESH_SECONDS` (:class:`GaugeWriter`), and the
scrape sums or picks them like any other file-backed gauge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from prometheus_client import Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from strm.monitor_snapshot import Gauges
from strm.runtime.gauges import read_gauges

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

logger = logging.getLogger("strm_sensor_prometheus")

#: How often each process of a multi-process worker writes its pulled figures.
REFRESH_SECONDS = 1.0

Row = tuple[tuple[str, ...], float]
Mode = Literal["livemostrecent", "livesum", "livemin"]


@dataclass(frozen=True)
class Pulled:
    """One pulled metric: its name, help, labels, how processes combine it in multi-process
    mode, and how to read its samples from the gauges."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    multiprocess_mode: Mode
    rows: Callable[[Gauges], Iterator[Row]]


def _partition_rows(attribute: str) -> Callable[[Gauges], Iterator[Row]]:
    def rows(gauges: Gauges) -> Iterator[Row]:
        for tp, gauge in sorted(gauges.partitions.items()):
            value = getattr(gauge, attribute)
            if value is not None:
                yield (tp.topic, str(tp.partition)), float(value)

    return rows


def _table_rows(read: Callable[[Any], float]) -> Callable[[Gauges], Iterator[Row]]:
    def rows(gauges: Gauges) -> Iterator[Row]:
        for name, table in sorted(gauges.tables.items()):
            yield (name,), read(table)

    return rows


def _single(read: Callable[[Gauges], float]) -> Callable[[Gauges], Iterator[Row]]:
    def rows(gauges: Gauges) -> Iterator[Row]:
        yield (), read(gauges)

    return rows


TP_LABELS = ("topic", "partition")

#: Partitions move between processes, so their gauges take the most recent writer's value;
#: tables are split across processes, so their gauges add up.
PULLED: tuple[Pulled, ...] = (
    Pulled(
        "strm_consumer_lag", "Records on the broker not processed yet (highwater - read).",
        TP_LABELS, "livemostrecent", _partition_rows("lag"),
    ),
    Pulled(
        "strm_consumer_highwater_offset", "The end offset the consumer last learned.",
        TP_LABELS, "livemostrecent", _partition_rows("highwater"),
    ),
    Pulled(
        "strm_consumer_read_offset", "One past the last record every reader processed.",
        TP_LABELS, "livemostrecent", _partition_rows("read"),
    ),
    Pulled(
        "strm_consumer_committed_offset", "The offset this worker last committed.",
        TP_LABELS, "livemostrecent", _partition_rows("committed"),
    ),
    Pulled(
        "strm_assigned_partitions", "Partitions assigned for reading (standbys excluded).",
        (), "livesum", _single(lambda g: float(len(g.partitions))),
    ),
    Pulled(
        "strm_standby_partitions", "Changelog partitions kept as standby copies.",
        (), "livesum", _single(lambda g: float(len(g.standbys))),
    ),
    Pulled(
        "strm_table_keys", "Keys a table holds in this worker's partitions.",
        ("table",), "livesum", _table_rows(lambda t: float(t.size)),
    ),
    Pulled(
        "strm_table_partitions", "Partitions of a table held here.",
        ("table",), "livesum", _table_rows(lambda t: float(t.partitions)),
    ),
    Pulled(
        "strm_table_recovered", "1 once a table is recovered from its changelog.",
        ("table",), "livemin", _table_rows(lambda t: 1.0 if t.recovered else 0.0),
    ),
    Pulled(
        "strm_table_recovery_replayed_records", "Changelog records replayed so far.",
        ("table",), "livesum", _table_rows(lambda t: float(t.recovery_done)),
    ),
    Pulled(
        "strm_table_recovery_target_records", "Changelog records the recovery replays.",
        ("table",), "livesum", _table_rows(lambda t: float(t.recovery_total)),
    ),
)  # fmt: skip


class GaugeCollector(Collector):
    """Reads the pulled figures of one app when scraped (one process)."""

    def __init__(self, app: AppLike, recovery: Callable[[], Any]) -> None:
        self.app = app
        self.recovery = recovery

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = read_gauges(self.app, self.recovery())
        for pulled in PULLED:
            family = GaugeMetricFamily(pulled.name, pulled.documentation, labels=pulled.labels)
            for labels, value in pulled.rows(gauges):
                family.add_metric(list(labels), value)
            yield family


class GaugeWriter:
    """Writes one process's pulled figures to the shared files (multi-process mode)."""

    def __init__(self, app: AppLike, recovery: Callable[[], Any]) -> None:
        self.app = app
        self.recovery = recovery
        self.gauges = {
            p.name: Gauge(
                p.name, p.documentation, p.labels, registry=None,
                multiprocess_mode=p.multiprocess_mode,
            )
            for p in PULLED
        }  # fmt: skip

    def write(self) -> None:
        gauges = read_gauges(self.app, self.recovery())
        for pulled in PULLED:
            metric = self.gauges[pulled.name]
            for labels, value in pulled.rows(gauges):
                (metric.labels(*labels) if labels else metric).set(value)

    @contextlib.asynccontextmanager
    async def running(self, app: AppLike) -> AsyncIterator[None]:
        """A service of the app: writes every :data:`REFRESH_SECONDS` while it runs, and once
        more as it stops, so the last figures are the final ones."""
        task = asyncio.create_task(self._loop(), name="strm-sensor-prometheus gauges")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.write()

    async def _loop(self) -> None:
        while True:
            try:
                self.write()
            except Exception as exc:  # a figure missing for a second must not stop the worker
                logger.error("strm-sensor-prometheus: reading the gauges failed: %r", exc,
                             exc_info=exc)  # fmt: skip
            await asyncio.sleep(REFRESH_SECONDS)


__all__ = ["PULLED", "REFRESH_SECONDS", "GaugeCollector", "GaugeWriter", "Pulled"]
