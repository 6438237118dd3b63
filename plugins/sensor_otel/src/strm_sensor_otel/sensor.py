"""The app's figures as OpenTelemetry instruments.

Counters and histograms are fed once per batch (``add(500)``, not 500 ``add(1)``); the figures
strm does not push (lag, offsets, table sizes) are observable gauges. Their callbacks may run on
a metric reader's own thread, so they never walk the app's live state: they read the last
:class:`strm.monitor_snapshot.Gauges`, which a task of the sensor reads on the event loop every
``otel_gauge_interval`` seconds.

Names follow OpenTelemetry's semantic conventions where they have the figure
(``messaging.client.consumed.messages``, ``messaging.process.duration``...); the rest are
``strm.*``. Durations are in seconds, as the conventions ask.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import StatusCode
from strm.kernel.settings.types import url_scheme
from strm.kernel.spi import TP, Message
from strm.monitor_snapshot import Gauges
from strm.runtime.gauges import read_gauges
from strm.sensors import Sensor

from strm_sensor_otel.spans import OtelEventTracer

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.runtime.recovery_progress import RecoveryProgress

logger = logging.getLogger(__name__)

#: The instrumentation scope: this distribution.
SCOPE = "strm-sensor-otel"


class OtelSensor(Sensor):
    """Records into a Meter of ``otel_meter_provider`` (or the global provider) and, with
    ``otel_event_spans``, traces each event through :class:`OtelEventTracer`."""

    def __init__(self, app: AppLike) -> None:
        conf: Any = app.conf
        self.app = app
        self.gauge_interval: float = conf.otel_gauge_interval
        broker = conf.broker
        scheme = url_scheme(str(broker[0] if isinstance(broker, list) else broker))
        #: ``messaging.system``: the transport's scheme (``kafka``, ``memory``).
        self.system = "kafka" if scheme in ("kafka", "aiokafka") else scheme
        self.base: dict[str, str] = {
            "messaging.system": self.system,
            "messaging.consumer.group.name": conf.id,
        }
        provider = conf.otel_meter_provider or metrics.get_meter_provider()
        self._define(provider.get_meter(SCOPE))
        if conf.otel_event_spans:
            tracers = conf.otel_tracer_provider or trace.get_tracer_provider()
            self.event_tracer = OtelEventTracer(
                tracers.get_tracer(SCOPE), system=self.system, group=conf.id
            )
        self._gauges = Gauges()
        self._recovery: RecoveryProgress | None = None
        self._reader: asyncio.Task[None] | None = None

    def _define(self, meter: metrics.Meter) -> None:
        self.consumed = meter.create_counter(
            "messaging.client.consumed.messages", unit="{message}",
            description="Records fetched and handed to the streams.",
        )  # fmt: skip
        self.processed = meter.create_counter(
            "strm.agent.processed.events", unit="{event}",
            description="Events an agent went through.",
        )  # fmt: skip
        self.process_duration = meter.create_histogram(
            "messaging.process.duration", unit="s",
            description="Time an agent spent per event: one sample per batch, its mean.",
        )  # fmt: skip
        self.sent = meter.create_counter(
            "messaging.client.sent.messages", unit="{message}",
            description="Records the producer made durable (with error.type: that failed).",
        )  # fmt: skip
        self.sent_bytes = meter.create_counter(
            "strm.producer.sent.bytes", unit="By", description="Bytes of keys and values sent."
        )
        self.send_duration = meter.create_histogram(
            "messaging.client.operation.duration", unit="s",
            description="Producer flushes: time waited for the broker.",
        )  # fmt: skip
        self.changelog_records = meter.create_counter(
            "strm.table.changelog.records", unit="{record}",
            description="Changelog records written by checkpoints.",
        )  # fmt: skip
        self.changelog_bytes = meter.create_counter(
            "strm.table.changelog.bytes", unit="By", description="Bytes of changelog records."
        )
        self.commit_duration = meter.create_histogram(
            "strm.commit.duration", unit="s", description="Checkpoints: flush and commit."
        )
        self.rebalances = meter.create_counter(
            "strm.rebalances", unit="{rebalance}", description="Rebalances started."
        )
        self.rebalance_duration = meter.create_histogram(
            "strm.rebalance.duration", unit="s", description="Rebalances, start to new assignment."
        )
        self.dead_letters = meter.create_counter(
            "strm.dead_letters", unit="{message}",
            description="Records that could not be decoded or processed.",
        )  # fmt: skip
        self.agent_errors = meter.create_counter(
            "strm.agent.errors", unit="{error}", description="Agent instances that raised."
        )
        self.agent_restarts = meter.create_counter(
            "strm.agent.restarts", unit="{restart}", description="Agent instances restarted."
        )
        self.loop_lag = meter.create_histogram(
            "strm.event_loop.lag", unit="s", description="How late the runtime's timer fired."
        )
        for name, unit, description, observe in (
            ("strm.consumer.lag", "{message}", "Records not processed yet.", self._lag),
            ("strm.consumer.end_offset", "{offset}", "End offset learned.", self._end),
            ("strm.consumer.read_offset", "{offset}", "Next offset to process.", self._read),
            ("strm.consumer.committed_offset", "{offset}", "Offset committed.", self._committed),
            ("strm.table.keys", "{key}", "Keys a table holds on this worker.", self._keys),
            ("strm.table.recovery.remaining", "{record}", "Changelog left to replay.", self._left),
        ):
            meter.create_observable_gauge(
                name, callbacks=[observe], unit=unit, description=description
            )

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(
            self._read_gauges_forever(), name="OtelSensor gauges"
        )

    async def stop(self) -> None:
        task, self._reader = self._reader, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read_gauges_forever(self) -> None:
        while True:
            try:
                self.refresh_gauges()
            except Exception:  # metrics must not stop the app: log, try again next time
                logger.exception("the otel sensor could not read the gauges")
            await asyncio.sleep(self.gauge_interval)

    def refresh_gauges(self) -> None:
        """Read the pulled figures now, for the observable gauges' next collection."""
        self._gauges = read_gauges(self.app, self._recovery)

    # -- observable gauges (any thread: they read the last snapshot only) --------------------------

    def _tp(self, tp: TP) -> dict[str, str]:
        return {
            **self.base,
            "messaging.destination.name": tp.topic,
            "messaging.destination.partition.id": str(tp.partition),
        }

    def _partitions(self, field: str) -> Iterable[Observation]:
        for tp, gauge in self._gauges.partitions.items():
            value = gauge.lag if field == "lag" else getattr(gauge, field)
            if value is not None:
                yield Observation(value, self._tp(tp))

    def _lag(self, options: CallbackOptions) -> Iterable[Observation]:
        return list(self._partitions("lag"))

    def _end(self, options: CallbackOptions) -> Iterable[Observation]:
        return list(self._partitions("highwater"))

    def _read(self, options: CallbackOptions) -> Iterable[Observation]:
        return list(self._partitions("read"))

    def _committed(self, options: CallbackOptions) -> Iterable[Observation]:
        return list(self._partitions("committed"))

    def _keys(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(t.size, {**self.base, "strm.table": name})
            for name, t in self._gauges.tables.items()
        ]

    def _left(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(t.recovery_total - t.recovery_done, {**self.base, "strm.table": name})
            for name, t in self._gauges.tables.items()
        ]

    # -- pushed figures --------------------------------------------------------------------------

    def on_batch_in(self, tp: TP, count: int) -> None:
        self.consumed.add(count, self._tp(tp))

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        attributes = {**self._tp(tp), "strm.agent": agent}
        self.processed.add(count, attributes)
        self.process_duration.record(seconds / max(count, 1), attributes)

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        for tp, (records, nbytes) in sent.items():
            attributes = self._tp(tp)
            self.sent.add(records, attributes)
            self.sent_bytes.add(nbytes, attributes)
        self.send_duration.record(
            seconds, {"messaging.system": self.system, "messaging.operation.name": "send"}
        )

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self.sent.add(
            count,
            {
                **self.base,
                "messaging.destination.name": topic,
                "error.type": type(error).__qualname__,
            },
        )

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        attributes = {**self._tp(tp), "strm.table": table}
        self.changelog_records.add(count, attributes)
        self.changelog_bytes.add(nbytes, attributes)

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        self.commit_duration.record(seconds, self.base)

    def on_rebalance_started(self) -> None:
        self.rebalances.add(1, self.base)

    def on_rebalance_finished(self, seconds: float) -> None:
        self.rebalance_duration.record(seconds, self.base)

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self.dead_letters.add(
            1,
            {
                **self._tp(message.tp),
                "strm.stage": stage,
                "error.type": type(error).__qualname__,
            },
        )

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self.agent_errors.add(
            1, {**self.base, "strm.agent": agent, "error.type": type(error).__qualname__}
        )
        if self.event_tracer is not None:
            # Called in the agent's task before its stream is closed: the event's span is
            # still the current one.
            span = trace.get_current_span()
            if span.is_recording():
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(StatusCode.ERROR, str(error))

    def on_agent_restart(self, agent: str, instances: int) -> None:
        self.agent_restarts.add(instances, {**self.base, "strm.agent": agent})

    def on_loop_lag(self, seconds: float) -> None:
        self.loop_lag.record(seconds, self.base)

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        self._recovery = progress


def otel_sensor(app: AppLike) -> Sensor:
    """The ``otel`` sensor when ``otel_enabled`` is on; otherwise a sensor that overrides
    nothing, which strm never calls."""
    return OtelSensor(app) if app.conf.otel_enabled else Sensor()
