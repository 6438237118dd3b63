"""Sensors: observers of what an app does, and the Monitor that keeps its statistics.

Sensors hear about batches — a fetched batch, the events an agent's stream took from one
batch, a producer flush, a checkpoint's changelog records, a commit, a rebalance — never about
single events on the hot path, so observing costs one call per batch, not per record. Plugins
add sensors through the ``strm_sensors`` hook (``app.sensors.add`` adds one at run time); the
``Monitor`` setting picks the class of ``app.monitor``. Figures that are cheap to read when asked
(lag, table sizes, recovery) are not pushed: :func:`strm.runtime.gauges.read_gauges` pulls them.

Faust's per-event callbacks (``on_message_in``, ``on_stream_event_in``, ``on_table_get``, ...)
do not exist here: a sensor class that defines one is refused when it is defined, with the
batch callback that replaces it (docs/monitoring.md, "Coming from Faust").
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import ConfigurationError, StrmError
from strm.kernel.spi import TP, Message
from strm.monitor_snapshot import EMPTY_DISTRIBUTION, AgentFigures, MonitorSnapshot
from strm.runtime.gauges import read_gauges
from strm.runtime.monitor_figures import Rates, Window

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.kernel.tracing import EventTracer
    from strm.runtime.recovery_progress import RecoveryProgress

logger = logging.getLogger(__name__)

#: Faust's per-event (or stateful) callbacks and what a strm sensor overrides instead.
FAUST_CALLBACKS: Mapping[str, str] = {
    "on_message_in": "on_batch_in(tp, count): once per fetched batch of a partition",
    "on_stream_event_in": "on_agent_batch(agent, tp, count, seconds): once per batch an agent's "
    "stream took",
    "on_stream_event_out": "on_agent_batch(agent, tp, count, seconds): once per batch an "
    "agent's stream took",
    "on_message_out": "on_agent_batch(agent, tp, count, seconds), and on_commit for offsets",
    "on_topic_buffer_full": "nothing: a full stream buffer pauses its partitions; lag shows it "
    "(strm.runtime.gauges.read_gauges)",
    "on_table_get": "nothing: table reads are not observed; table sizes are pulled "
    "(strm.runtime.gauges.read_gauges)",
    "on_table_set": "on_changelog(table, tp, count, nbytes): once per table partition a "
    "checkpoint writes",
    "on_table_del": "on_changelog(table, tp, count, nbytes): once per table partition a "
    "checkpoint writes",
    "on_commit_initiated": "on_commit(offsets, seconds): once per commit, with its duration",
    "on_commit_completed": "on_commit(offsets, seconds): once per commit, with its duration",
    "on_send_initiated": "on_send_batch(sent, seconds): once per producer flush",
    "on_send_completed": "on_send_batch(sent, seconds): once per producer flush",
    "on_send_error": "on_send_failed(topic, count, error)",
    "on_assignment_start": "on_rebalance_started()",
    "on_assignment_error": "on_rebalance_finished(seconds)",
    "on_assignment_completed": "on_partitions_assigned(assigned)",
    "on_rebalance_start": "on_rebalance_started()",
    "on_rebalance_return": "on_partitions_assigned(assigned)",
    "on_rebalance_end": "on_rebalance_finished(seconds)",
    "on_web_request_start": "nothing yet: web requests are not observed by sensors",
    "on_web_request_end": "nothing yet: web requests are not observed by sensors",
    "on_threaded_producer_buffer_processed": "on_send_batch(sent, seconds)",
}


class Sensor:
    """Base class: override the notifications you need; each default does nothing.

    Every callback runs on the event loop, inside the kernel's own code, once per batch: keep it
    short and never let it raise (an exception propagates into the fetch loop, the stream or the
    checkpoint that called it). Only the callbacks a sensor overrides are called at all
    (:class:`SensorSet` skips the others), so a sensor pays for what it observes.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, instead in FAUST_CALLBACKS.items():
            if name in vars(cls):
                raise TypeError(
                    f"{cls.__qualname__}.{name}: strm sensors are called once per batch, not "
                    f"per event, and have no {name}; override {instead} "
                    "(docs/monitoring.md, 'Coming from Faust')"
                )

    #: A sensor that follows single events (a span per record) offers a tracer here; see
    #: :mod:`strm.kernel.tracing`. At most one sensor of an app may.
    event_tracer: EventTracer | None = None

    async def start(self) -> None:
        """The app is starting, before its producers, tables and consumer: open what the
        sensor sends through (an error here stops the start). Not called for a sensor added
        while the app runs."""

    async def stop(self) -> None:
        """The app has stopped everything else (the last commit was reported): flush, close."""

    # -- reading -----------------------------------------------------------------------------

    def on_batch_in(self, tp: TP, count: int) -> None:
        """``count`` records of ``tp`` were fetched and handed to the streams reading them."""

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        """An instance of ``agent`` went through ``count`` events of ``tp`` taken from its
        buffer in one go, in ``seconds`` (from taking the batch to finishing its last event,
        awaits inside the agent included). With ``concurrency > 1`` a batch is one event."""

    # -- writing -----------------------------------------------------------------------------

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        """A producer flush made these records durable: ``(records, bytes)`` by partition
        (bytes of keys and values), sent since the previous flush; the flush waited
        ``seconds`` for the broker (an upper bound of each record's send latency). Records are
        counted only while some sensor overrides this (the producer asks at each flush, so a
        sensor added while the app runs hears from the flush after next)."""

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        """``count`` records for ``topic`` could not be sent (a failed send or flush)."""

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        """A checkpoint wrote ``count`` changelog records (``nbytes`` of keys and values) for
        the changes of ``table`` in changelog partition ``tp``."""

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        """Offsets were committed; the checkpoint (flush and commit) took ``seconds``."""

    # -- group membership --------------------------------------------------------------------

    def on_rebalance_started(self) -> None:
        """The group is rebalancing: this worker's partitions are being revoked (or, at
        start, it is joining)."""

    def on_rebalance_finished(self, seconds: float) -> None:
        """The new assignment is in place (the worker reads again); the rebalance took
        ``seconds`` from its start."""

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """The worker got these partitions."""

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """The worker lost these partitions."""

    # -- failures ----------------------------------------------------------------------------

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        """A record could not be decoded (``stage='decode'``) or processed (``'process'``)."""

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        """An agent instance raised."""

    def on_agent_restart(self, agent: str, instances: int) -> None:
        """The supervisor of ``agent`` restarted ``instances`` of its instances."""

    # -- the worker ----------------------------------------------------------------------------

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        """Tables are being recovered from their changelogs: called every second while they
        are, and once with ``progress.finished`` set when they are up to date."""

    def on_loop_lag(self, seconds: float) -> None:
        """A sample of the event loop's lag: how late a timer of the runtime fired (every
        ``LOOP_LAG_INTERVAL`` seconds while the app runs). Large values mean something blocks
        the loop."""


#: The callbacks :class:`SensorSet` forwards.
CALLBACKS: tuple[str, ...] = tuple(
    name for name in vars(Sensor) if name.startswith("on_") and callable(vars(Sensor)[name])
)


class SensorSet(Sensor):
    """Forwards every notification to each sensor of the app that overrides it.

    For each callback it keeps the bound methods of the sensors overriding it, so a callback no
    sensor overrides costs one loop over an empty list."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.sensors: list[Sensor] = []
        self._targets: dict[str, list[Callable[..., None]]] = {name: [] for name in CALLBACKS}
        #: The one sensor's tracer of single events, if a sensor has one (strm.kernel.tracing).
        self.event_tracer: EventTracer | None = None
        self._started: list[Sensor] = []
        for sensor in sensors:
            self.add(sensor)

    def add(self, sensor: Sensor) -> None:
        """Attach one more sensor (a plugin's, a test's, the worker's recovery display)."""
        if not isinstance(sensor, Sensor):
            raise TypeError(
                f"app.sensors.add({sensor!r}): a sensor is an instance of strm.Sensor, "
                f"not {type(sensor).__name__}"
            )
        if sensor.event_tracer is not None:
            if self.event_tracer is not None:
                raise ConfigurationError(
                    f"{sensor!r} traces each event, and another sensor does already; "
                    "turn off the per-event tracing of one of them"
                )
            self.event_tracer = sensor.event_tracer
        self.sensors.append(sensor)
        for name, targets in self._targets.items():
            if getattr(type(sensor), name) is not getattr(Sensor, name):
                targets.append(getattr(sensor, name))

    def remove(self, sensor: Sensor) -> None:
        """Detach a sensor added before."""
        self.sensors.remove(sensor)
        if sensor.event_tracer is not None and sensor.event_tracer is self.event_tracer:
            self.event_tracer = None
        for targets in self._targets.values():
            targets[:] = [t for t in targets if getattr(t, "__self__", None) is not sensor]

    async def start(self) -> None:
        """Start the sensors that have a start or a stop, in order; stop those started if one
        fails."""
        started: list[Sensor] = []
        try:
            for sensor in self.sensors:
                kind = type(sensor)
                if kind.start is not Sensor.start or kind.stop is not Sensor.stop:
                    await sensor.start()
                    started.append(sensor)
        except BaseException:
            await _stop_all(started)
            raise
        self._started = started

    async def stop(self) -> None:
        """Stop the started sensors, last started first."""
        started, self._started = self._started, []
        await _stop_all(started)

    def wants(self, name: str) -> bool:
        """Whether some sensor overrides callback ``name`` (callers may skip gathering its
        arguments when none does)."""
        return bool(self._targets[name])

    def on_batch_in(self, tp: TP, count: int) -> None:
        for target in self._targets["on_batch_in"]:
            target(tp, count)

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        for target in self._targets["on_agent_batch"]:
            target(agent, tp, count, seconds)

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        for target in self._targets["on_send_batch"]:
            target(sent, seconds)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        for target in self._targets["on_send_failed"]:
            target(topic, count, error)

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        for target in self._targets["on_changelog"]:
            target(table, tp, count, nbytes)

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        for target in self._targets["on_commit"]:
            target(offsets, seconds)

    def on_rebalance_started(self) -> None:
        for target in self._targets["on_rebalance_started"]:
            target()

    def on_rebalance_finished(self, seconds: float) -> None:
        for target in self._targets["on_rebalance_finished"]:
            target(seconds)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        for target in self._targets["on_partitions_assigned"]:
            target(assigned)

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for target in self._targets["on_partitions_revoked"]:
            target(revoked)

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        for target in self._targets["on_dead_letter"]:
            target(message, error, stage)

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        for target in self._targets["on_agent_error"]:
            target(agent, error)

    def on_agent_restart(self, agent: str, instances: int) -> None:
        for target in self._targets["on_agent_restart"]:
            target(agent, instances)

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        for target in self._targets["on_recovery_progress"]:
            target(progress)

    def on_loop_lag(self, seconds: float) -> None:
        for target in self._targets["on_loop_lag"]:
            target(seconds)


async def _stop_all(sensors: list[Sensor]) -> None:
    """Stop each sensor, last first; one failing to stop does not keep the others open."""
    for sensor in reversed(sensors):
        try:
            await sensor.stop()
        except Exception:
            logger.exception("sensor %r failed to stop", sensor)


class Monitor(Sensor):
    """Keeps the app's figures; :meth:`snapshot` (typed) and :meth:`asdict` (JSON) read them.

    Counters grow by one addition per batch; durations go to bounded windows
    (:class:`strm.runtime.monitor_figures.Window`); rates are taken over the last
    ``RATE_WINDOW`` seconds from samples made at each event-loop lag sample. Pulled gauges (lag,
    table sizes) are read when a snapshot is taken. Turn it off with ``Monitor=strm.NoMonitor``.
    """

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.started = time.monotonic()
        self.messages_received_total = 0
        self.messages_received_by_tp: Counter[TP] = Counter()
        self.events_total = 0
        self.events_by_agent: Counter[str] = Counter()
        self.runtime_by_agent: dict[str, Window] = {}
        self.runtime_seconds_total = 0.0
        self.messages_sent_by_tp: Counter[TP] = Counter()
        self.bytes_sent_by_tp: Counter[TP] = Counter()
        self.send_latency = Window()
        self.send_errors: Counter[str] = Counter()
        self.commits = 0
        self.commit_latency = Window()
        self.tp_committed_offsets: dict[TP, int] = {}
        self.changelog_records_by_table: Counter[str] = Counter()
        self.changelog_bytes_by_table: Counter[str] = Counter()
        self.rebalances = 0
        self.rebalancing = False
        self.rebalance_end_latency = Window()
        self.assignments = 0
        self.revocations = 0
        self.dead_letters: Counter[str] = Counter()
        self.agent_errors: Counter[str] = Counter()
        self.agent_restarts: Counter[str] = Counter()
        self.loop_lag = 0.0
        self.loop_lag_window = Window()
        self.recovery: RecoveryProgress | None = None
        self.rates = Rates()

    @property
    def messages_received_by_topic(self) -> Counter[str]:
        by_topic: Counter[str] = Counter()
        for tp, count in self.messages_received_by_tp.items():
            by_topic[tp.topic] += count
        return by_topic

    def on_batch_in(self, tp: TP, count: int) -> None:
        self.messages_received_total += count
        self.messages_received_by_tp[tp] += count

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        self.events_total += count
        self.events_by_agent[agent] += count
        self.runtime_seconds_total += seconds
        window = self.runtime_by_agent.get(agent)
        if window is None:
            window = self.runtime_by_agent[agent] = Window()
        window.add(seconds / count)

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        for tp, (count, nbytes) in sent.items():
            self.messages_sent_by_tp[tp] += count
            self.bytes_sent_by_tp[tp] += nbytes
        self.send_latency.add(seconds)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self.send_errors[topic] += count

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        self.changelog_records_by_table[table] += count
        self.changelog_bytes_by_table[table] += nbytes

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        self.commits += 1
        self.commit_latency.add(seconds)
        self.tp_committed_offsets.update(offsets)

    def on_rebalance_started(self) -> None:
        self.rebalances += 1
        self.rebalancing = True

    def on_rebalance_finished(self, seconds: float) -> None:
        self.rebalancing = False
        self.rebalance_end_latency.add(seconds)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.assignments += 1

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.revocations += 1

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self.dead_letters[stage] += 1

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self.agent_errors[agent] += 1

    def on_agent_restart(self, agent: str, instances: int) -> None:
        self.agent_restarts[agent] += instances

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        self.recovery = progress

    def on_loop_lag(self, seconds: float) -> None:
        self.loop_lag = seconds
        self.loop_lag_window.add(seconds)
        self.rates.sample(self._totals())

    def _totals(self) -> dict[str, int]:
        return {
            "messages": self.messages_received_total,
            "events": self.events_total,
            **{f"agent:{name}": n for name, n in self.events_by_agent.items()},
            **{f"in:{topic}": n for topic, n in self.messages_received_by_topic.items()},
            **{f"out:{topic}": n for topic, n in self.app.sent_by_topic().items()},
        }

    def snapshot(self) -> MonitorSnapshot:
        """The figures now, pulled gauges included."""
        rates = self.rates.per_second(self._totals())
        sent_by_topic = self.app.sent_by_topic()
        agents = {
            name: AgentFigures(
                name=name,
                events_total=self.events_by_agent[name],
                events_per_second=rates.get(f"agent:{name}", 0.0),
                runtime=window.distribution(),
                errors=self.agent_errors[name],
                restarts=self.agent_restarts[name],
            )
            for name, window in self.runtime_by_agent.items()
        }
        for name in set(self.agent_errors) | set(self.agent_restarts):
            if name not in agents:
                agents[name] = AgentFigures(
                    name, 0, 0.0, EMPTY_DISTRIBUTION, self.agent_errors[name],
                    self.agent_restarts[name],
                )  # fmt: skip
        return MonitorSnapshot(
            uptime_seconds=time.monotonic() - self.started,
            messages_received_total=self.messages_received_total,
            messages_received_by_topic=dict(self.messages_received_by_topic),
            messages_received_by_tp=dict(self.messages_received_by_tp),
            messages_s=rates["messages"],
            events_total=self.events_total,
            events_s=rates["events"],
            events_runtime_avg=self.runtime_seconds_total / max(self.events_total, 1),
            agents=agents,
            messages_sent=sum(sent_by_topic.values()),
            messages_sent_by_topic=sent_by_topic,
            messages_sent_by_tp=dict(self.messages_sent_by_tp),
            bytes_sent_by_tp=dict(self.bytes_sent_by_tp),
            send_latency=self.send_latency.distribution(),
            send_errors=dict(self.send_errors),
            commits=self.commits,
            commit_latency=self.commit_latency.distribution(),
            tp_committed_offsets=dict(self.tp_committed_offsets),
            changelog_records_by_table=dict(self.changelog_records_by_table),
            changelog_bytes_by_table=dict(self.changelog_bytes_by_table),
            rebalances=self.rebalances,
            rebalancing=self.rebalancing,
            rebalance_end_latency=self.rebalance_end_latency.distribution(),
            assignments=self.assignments,
            revocations=self.revocations,
            dead_letters=dict(self.dead_letters),
            agent_errors=dict(self.agent_errors),
            agent_restarts=dict(self.agent_restarts),
            loop_lag=self.loop_lag,
            loop_lag_window=self.loop_lag_window.distribution(),
            gauges=read_gauges(self.app, self.recovery),
            messages_s_by_topic=_by_prefix(rates, "in:"),
            messages_sent_s_by_topic=_by_prefix(rates, "out:"),
        )

    def asdict(self) -> dict[str, Any]:
        """:meth:`snapshot` as plain JSON values (``/stats/`` serves it)."""
        return self.snapshot().asdict()


def _by_prefix(rates: Mapping[str, float], prefix: str) -> dict[str, float]:
    return {name[len(prefix) :]: rate for name, rate in rates.items() if name.startswith(prefix)}


class NoMonitor(Monitor):
    """The Monitor turned off (``Monitor=strm.NoMonitor``): it overrides no callback, so the
    kernel never calls it and keeps nothing; :meth:`asdict` gives only the pulled gauges (they
    cost nothing until asked) and :meth:`snapshot` refuses."""

    on_batch_in = Sensor.on_batch_in
    on_agent_batch = Sensor.on_agent_batch
    on_send_batch = Sensor.on_send_batch
    on_send_failed = Sensor.on_send_failed
    on_changelog = Sensor.on_changelog
    on_commit = Sensor.on_commit
    on_rebalance_started = Sensor.on_rebalance_started
    on_rebalance_finished = Sensor.on_rebalance_finished
    on_partitions_assigned = Sensor.on_partitions_assigned
    on_partitions_revoked = Sensor.on_partitions_revoked
    on_dead_letter = Sensor.on_dead_letter
    on_agent_error = Sensor.on_agent_error
    on_agent_restart = Sensor.on_agent_restart
    on_recovery_progress = Sensor.on_recovery_progress
    on_loop_lag = Sensor.on_loop_lag

    def snapshot(self) -> MonitorSnapshot:
        raise StrmError(
            "the Monitor is off (Monitor=strm.NoMonitor): it keeps no figures; remove the "
            "setting to keep them, or read the pulled ones with "
            "strm.runtime.gauges.read_gauges(app)"
        )

    def asdict(self) -> dict[str, Any]:
        return {"monitor": "off", **read_gauges(self.app).asdict()}
