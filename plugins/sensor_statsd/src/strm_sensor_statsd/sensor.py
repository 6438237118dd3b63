"""The sensor: strm's batch notifications as StatsD metric lines.

Each notification becomes a handful of lines that leave in one datagram: a fetched batch of
500 records is ``messages_received:500|c``, not 500 increments. The figures strm does not push
(end offsets, lag, table sizes) are read with :func:`strm.runtime.gauges.read_gauges` every
``<prefix>_gauge_interval`` seconds while the app runs.

Public: ``strm-sensor-datadog`` is this sensor with another naming
(:data:`strm_sensor_statsd.naming.Naming`) and other settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TP, Message
from strm.runtime.gauges import read_gauges
from strm.sensors import Sensor

from strm_sensor_statsd.client import StatsdClient
from strm_sensor_statsd.naming import METRICS, Naming, statsd_naming

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.runtime.recovery_progress import RecoveryProgress

logger = logging.getLogger(__name__)


class UdpMetricsSensor(Sensor):
    """Sends the app's figures through ``client``, named by ``naming``."""

    def __init__(
        self, app: AppLike, client: StatsdClient, naming: Naming, gauge_interval: float
    ) -> None:
        self.app = app
        self.client = client
        self.naming = naming
        self.gauge_interval = gauge_interval
        self._recovery: RecoveryProgress | None = None
        self._gauges: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.client!r}>"

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the socket (a host that cannot be resolved is a ``ConfigurationError`` here,
        when the app starts) and begin reading the gauges."""
        await self.client.open()
        self._gauges = asyncio.get_running_loop().create_task(
            self._read_gauges_forever(), name=f"{type(self).__name__} gauges"
        )

    async def stop(self) -> None:
        """Send the gauges once more and close the socket."""
        task, self._gauges = self._gauges, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.send_gauges()
        self.client.close()

    async def _read_gauges_forever(self) -> None:
        while True:
            await asyncio.sleep(self.gauge_interval)
            try:
                self.send_gauges()
            except Exception:  # metrics must not stop the app: log, try again next time
                logger.exception("%r could not read the gauges", self)

    def send_gauges(self) -> None:
        """Lag, offsets and table sizes now, in one datagram (or a few)."""
        gauges = read_gauges(self.app, self._recovery)
        lines = [self._line("assigned_partitions", len(gauges.partitions))]
        for tp, partition in gauges.partitions.items():
            labels = {"topic": tp.topic, "partition": tp.partition}
            if partition.highwater is not None:
                lines.append(self._line("end_offset", partition.highwater, labels))
            if partition.read is not None:
                lines.append(self._line("read_offset", partition.read, labels))
            if partition.lag is not None:
                lines.append(self._line("consumer_lag", partition.lag, labels))
        for name, table in gauges.tables.items():
            lines.append(self._line("table_keys", table.size, {"table": name}))
        self.client.send(lines)

    # -- lines -----------------------------------------------------------------------------------

    def _line(
        self, metric: str, value: float, labels: Mapping[str, object] | None = None
    ) -> str | None:
        name, tags = self.naming(metric, labels or {})
        kind = METRICS[metric][0]
        if kind == "c":
            return self.client.count(name, value, tags)
        if kind == "g":
            return self.client.gauge(name, value, tags)
        return self.client.timing(name, value, tags)

    # -- reading ---------------------------------------------------------------------------------

    def on_batch_in(self, tp: TP, count: int) -> None:
        self.client.send(
            [
                self._line(
                    "messages_received", count, {"topic": tp.topic, "partition": tp.partition}
                ),
                self._line("topic_messages_received", count, {"topic": tp.topic}),
            ]
        )

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        labels = {"agent": agent, "topic": tp.topic, "partition": tp.partition}
        self.client.send(
            [
                self._line("events", count, labels),
                self._line("agent_events", count, {"agent": agent}),
                # Faust times each event; a batch gives the mean of its events.
                self._line("events_runtime", seconds * 1000.0 / max(count, 1), {"agent": agent}),
            ]
        )

    # -- writing ---------------------------------------------------------------------------------

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        records_by_topic: Counter[str] = Counter()
        bytes_by_topic: Counter[str] = Counter()
        lines = []
        for tp, (records, nbytes) in sent.items():
            records_by_topic[tp.topic] += records
            bytes_by_topic[tp.topic] += nbytes
            labels = {"topic": tp.topic, "partition": tp.partition}
            lines.append(self._line("messages_sent", records, labels))
        for topic, records in records_by_topic.items():
            lines.append(self._line("topic_messages_sent", records, {"topic": topic}))
            lines.append(self._line("topic_bytes_sent", bytes_by_topic[topic], {"topic": topic}))
        lines.append(self._line("send_latency", seconds * 1000.0))
        self.client.send(lines)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self.client.send([self._line("messages_send_failed", count, {"topic": topic})])

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        labels = {"table": table, "topic": tp.topic, "partition": tp.partition}
        self.client.send(
            [
                self._line("changelog_records", count, labels),
                self._line("changelog_bytes", nbytes, labels),
            ]
        )

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        lines = [self._line("commit_latency", seconds * 1000.0)]
        for tp, offset in offsets.items():
            labels = {"topic": tp.topic, "partition": tp.partition}
            lines.append(self._line("committed_offset", offset, labels))
        self.client.send(lines)

    # -- the group -------------------------------------------------------------------------------

    def on_rebalance_started(self) -> None:
        self.client.send([self._line("rebalances", 1)])

    def on_rebalance_finished(self, seconds: float) -> None:
        self.client.send([self._line("rebalance_end_latency", seconds * 1000.0)])

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.client.send([self._line("assignments_complete", 1)])

    # -- failures --------------------------------------------------------------------------------

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self.client.send([self._line("dead_letters", 1, {"stage": stage, "topic": message.topic})])

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self.client.send([self._line("agent_errors", 1, {"agent": agent})])

    def on_agent_restart(self, agent: str, instances: int) -> None:
        self.client.send([self._line("agent_restarts", instances, {"agent": agent})])

    # -- the worker ------------------------------------------------------------------------------

    def on_loop_lag(self, seconds: float) -> None:
        self.client.send([self._line("loop_lag", seconds * 1000.0)])

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        self._recovery = progress
        lines = []
        for share in progress.tables:
            labels = {"table": share.table}
            lines.append(self._line("recovery_records_done", share.done, labels))
            lines.append(self._line("recovery_records_total", share.total, labels))
        self.client.send(lines)


class StatsdSensor(UdpMetricsSensor):
    """Faust's ``StatsdMonitor`` as a strm sensor: plain StatsD names, settings ``statsd_*``."""

    def __init__(self, app: AppLike) -> None:
        conf: Any = app.conf
        client = StatsdClient(
            conf.statsd_host,
            conf.statsd_port,
            prefix=conf.statsd_prefix,
            rate=conf.statsd_rate,
            setting_prefix="statsd",
        )
        super().__init__(app, client, statsd_naming, conf.statsd_gauge_interval)


def statsd_sensor(app: AppLike) -> Sensor:
    """The ``statsd`` sensor when ``statsd_enabled`` is on; otherwise a sensor that overrides
    nothing, which strm never calls."""
    return StatsdSensor(app) if app.conf.statsd_enabled else Sensor()
