"""Sensors: observers of what an app does, and the Monitor that keeps its statistics.

Sensors hear about batches, commits, rebalances, dead letters and agent crashes — never about
single events on the hot path, so observing costs nothing per record. Plugins add sensors
through the ``strm_sensors`` hook; the ``Monitor`` setting picks the class of ``app.monitor``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TP, Message

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.runtime.recovery_progress import RecoveryProgress


class Sensor:
    """Base class: override the notifications you need; each default does nothing."""

    def on_batch_in(self, tp: TP, count: int) -> None:
        """``count`` records of ``tp`` were fetched and handed to the streams reading them."""

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        """Offsets were committed; the checkpoint (flush and commit) took ``seconds``."""

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """The worker got these partitions."""

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """The worker lost these partitions."""

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        """A record could not be decoded (``stage='decode'``) or processed (``'process'``)."""

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        """An agent instance raised."""

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        """Tables are being recovered from their changelogs: called every second while they
        are, and once with ``progress.finished`` set when they are up to date."""


class SensorSet(Sensor):
    """Forwards every notification to each sensor of the app."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.sensors = list(sensors)

    def add(self, sensor: Sensor) -> None:
        """Attach one more sensor, such as the worker's recovery display on a terminal."""
        self.sensors.append(sensor)

    def on_batch_in(self, tp: TP, count: int) -> None:
        for sensor in self.sensors:
            sensor.on_batch_in(tp, count)

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        for sensor in self.sensors:
            sensor.on_commit(offsets, seconds)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        for sensor in self.sensors:
            sensor.on_partitions_assigned(assigned)

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for sensor in self.sensors:
            sensor.on_partitions_revoked(revoked)

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        for sensor in self.sensors:
            sensor.on_dead_letter(message, error, stage)

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        for sensor in self.sensors:
            sensor.on_agent_error(agent, error)

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        for sensor in self.sensors:
            sensor.on_recovery_progress(progress)


class Monitor(Sensor):
    """Counts what the app did; ``asdict()`` is a snapshot for logs, dashboards and tests."""

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.started = time.monotonic()
        self.messages_received_total = 0
        self.messages_received_by_topic: Counter[str] = Counter()
        self.commits = 0
        self.commit_seconds_total = 0.0
        self.committed_offsets: dict[TP, int] = {}
        self.assignments = 0
        self.revocations = 0
        self.dead_letters: Counter[str] = Counter()
        self.agent_errors: Counter[str] = Counter()

    def on_batch_in(self, tp: TP, count: int) -> None:
        self.messages_received_total += count
        self.messages_received_by_topic[tp.topic] += count

    def on_commit(self, offsets: Mapping[TP, int], seconds: float) -> None:
        self.commits += 1
        self.commit_seconds_total += seconds
        self.committed_offsets.update(offsets)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.assignments += 1

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.revocations += 1

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self.dead_letters[stage] += 1

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self.agent_errors[agent] += 1

    def asdict(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        sent = self.app.sent_by_topic()
        return {
            "uptime_seconds": elapsed,
            "messages_received_total": self.messages_received_total,
            "messages_received_by_topic": dict(self.messages_received_by_topic),
            "messages_received_per_second": self.messages_received_total / elapsed,
            "messages_sent_total": sum(sent.values()),
            "messages_sent_by_topic": sent,
            "commits": self.commits,
            "commit_latency_avg": self.commit_seconds_total / self.commits if self.commits else 0.0,
            "committed_offsets": {
                f"{tp.topic}[{tp.partition}]": o for tp, o in self.committed_offsets.items()
            },
            "assignments": self.assignments,
            "revocations": self.revocations,
            "dead_letters": dict(self.dead_letters),
            "agent_errors": dict(self.agent_errors),
        }
