"""The sensor: turns the app's batch notifications into prometheus_client counters and
histograms, and owns what ``/metrics`` serves.

One call per batch, as strm's sensor interface promises; the labelled children of each metric
are looked up once per partition or agent and kept, so a batch costs a dictionary lookup and an
increment, not a label lookup under prometheus_client's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from strm.kernel.spi import TP, Message
from strm.sensors import Sensor

from strm_sensor_prometheus import multiprocess
from strm_sensor_prometheus.metrics import PushedMetrics
from strm_sensor_prometheus.pulled import GaugeCollector, GaugeWriter

if TYPE_CHECKING:
    from strm.app import App
    from strm.runtime.recovery_progress import RecoveryProgress


class PrometheusSensor(Sensor):
    """strm's sensor for Prometheus (``app.sensors``); ``render()`` is the exposition text."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.multiprocess = multiprocess.enabled()
        self.recovery: RecoveryProgress | None = None
        if self.multiprocess:
            multiprocess.ensure_directory()
            self.registry = None
            self.metrics = PushedMetrics(None)
            writer = GaugeWriter(app, self._last_recovery)
            app.add_service(lambda _app: writer.running(_app))
        else:
            self.registry = CollectorRegistry()
            self.metrics = PushedMetrics(self.registry)
            self.registry.register(GaugeCollector(app, self._last_recovery))
            # The process's own figures, as prometheus_client's default registry has them
            # (a registry per app, so that two apps in one process do not mix).
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        m = self.metrics
        self._received = _Children(lambda tp: m.messages_received.labels(tp.topic, tp.partition))
        self._agent_events = _Children(
            lambda key: m.agent_events.labels(key[0], *_tp_labels(key[1]))
        )
        self._agent_batch = _Children(lambda agent: m.agent_batch.labels(agent))
        self._sent = _Children(lambda tp: m.messages_sent.labels(tp.topic, tp.partition))
        self._bytes = _Children(lambda tp: m.bytes_sent.labels(tp.topic, tp.partition))
        self._changelog_records = _Children(
            lambda key: m.changelog_records.labels(key[0], key[1].partition)
        )
        self._changelog_bytes = _Children(
            lambda key: m.changelog_bytes.labels(key[0], key[1].partition)
        )

    def _last_recovery(self) -> RecoveryProgress | None:
        return self.recovery

    def render(self) -> bytes:
        """The exposition text: this app's registry, or in multi-process mode every process's
        figures summed from the shared directory."""
        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(multiprocess.directory()))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    # -- reading -----------------------------------------------------------------------------

    def on_batch_in(self, tp: TP, count: int) -> None:
        self._received[tp].inc(count)

    def on_agent_batch(self, agent: str, tp: TP, count: int, seconds: float) -> None:
        self._agent_events[agent, tp].inc(count)
        self._agent_batch[agent].observe(seconds)

    # -- writing -----------------------------------------------------------------------------

    def on_send_batch(self, sent: Mapping[TP, tuple[int, int]], seconds: float) -> None:
        for tp, (records, nbytes) in sent.items():
            self._sent[tp].inc(records)
            self._bytes[tp].inc(nbytes)
        self.metrics.send_flush.observe(seconds)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self.metrics.send_errors.labels(topic).inc(count)

    def on_changelog(self, table: str, tp: TP, count: int, nbytes: int) -> None:
        self._changelog_records[table, tp].inc(count)
        self._changelog_bytes[table, tp].inc(nbytes)

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        self.metrics.commit.observe(seconds)

    # -- group membership --------------------------------------------------------------------

    def on_rebalance_started(self) -> None:
        self.metrics.rebalancing.set(1)

    def on_rebalance_finished(self, seconds: float) -> None:
        self.metrics.rebalancing.set(0)
        self.metrics.rebalance.observe(seconds)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.metrics.assignments.inc()

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.metrics.revocations.inc()

    # -- failures ----------------------------------------------------------------------------

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self.metrics.dead_letters.labels(stage).inc()

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self.metrics.agent_errors.labels(agent).inc()

    def on_agent_restart(self, agent: str, instances: int) -> None:
        self.metrics.agent_restarts.labels(agent).inc(instances)

    # -- the worker ----------------------------------------------------------------------------

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        self.recovery = progress

    def on_loop_lag(self, seconds: float) -> None:
        self.metrics.loop_lag.observe(seconds)


def _tp_labels(tp: TP | None) -> tuple[str, str]:
    """An agent reading a channel (or under ``test_context``) has no partition: empty labels,
    which Prometheus treats as absent."""
    return ("", "") if tp is None else (tp.topic, str(tp.partition))


class _Children(dict[Any, Any]):
    """A metric's labelled children by key, made on first use."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: Any) -> Any:
        child = self[key] = self._make(key)
        return child


__all__ = ["PrometheusSensor"]
