"""What a snapshot of a running app's figures holds: :meth:`strm.Monitor.snapshot` returns one.

Two kinds of figure meet here. Counters (events in and out, commits, sends, rebalances) are
*pushed*: sensors hear of them batch by batch as they happen. Gauges (lag, table sizes, recovery)
are *pulled*: they are cheap to read when someone asks and would be wasted work to keep up to
date between two asks, so :func:`strm.runtime.gauges.read_gauges` reads them from the consumer
and the tables at the moment a snapshot is taken. Exporters that keep their own counters (a sensor
plugin) read the gauges the same way, whether the Monitor is on or not.

Every type here is frozen: a snapshot can be kept, compared with the next one or rendered later.
``asdict()`` gives plain JSON values, partitions named ``"topic[partition]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strm.kernel.spi import TP
from strm.runtime.recovery_progress import RecoveryProgress


def tp_name(tp: TP) -> str:
    """A partition as a JSON key: ``"topic[partition]"``."""
    return f"{tp.topic}[{tp.partition}]"


def _by_tp(values: Mapping[TP, Any]) -> dict[str, Any]:
    return {tp_name(tp): value for tp, value in sorted(values.items())}


@dataclass(frozen=True, slots=True)
class PartitionGauge:
    """Where one assigned partition stands.

    ``highwater`` is the end offset the transport last learned (the offset the next record
    written will get), ``None`` when it has not learned one yet or cannot tell without a
    request. ``read`` is one past the last record processed by every stream reading the
    partition, ``committed`` the offset last committed by this worker. ``lag`` is
    ``highwater - read`` (records on the broker not processed yet), ``None`` when either is
    unknown. Standby partitions (changelog copies) are not listed.
    """

    tp: TP
    highwater: int | None
    read: int | None
    committed: int | None

    @property
    def lag(self) -> int | None:
        if self.highwater is None or self.read is None:
            return None
        return max(self.highwater - self.read, 0)

    def asdict(self) -> dict[str, Any]:
        return {
            "highwater": self.highwater,
            "read": self.read,
            "committed": self.committed,
            "lag": self.lag,
        }


@dataclass(frozen=True, slots=True)
class TableGauge:
    """One table on this worker: keys held (in the partitions it owns, or all of a global
    table) and, while it recovers, the changelog records replayed out of those to replay."""

    name: str
    size: int
    partitions: int
    recovered: bool
    recovery_done: int = 0
    recovery_total: int = 0

    def asdict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "partitions": self.partitions,
            "recovered": self.recovered,
            "recovery_done": self.recovery_done,
            "recovery_total": self.recovery_total,
        }


@dataclass(frozen=True, slots=True)
class Gauges:
    """The pulled figures: assigned partitions with their lag, standbys, tables, recovery."""

    partitions: Mapping[TP, PartitionGauge] = field(default_factory=dict)
    standbys: frozenset[TP] = frozenset()
    tables: Mapping[str, TableGauge] = field(default_factory=dict)
    recovery: RecoveryProgress | None = None

    @property
    def lag_total(self) -> int:
        """Records behind, over every partition whose lag is known."""
        return sum(g.lag or 0 for g in self.partitions.values())

    def asdict(self) -> dict[str, Any]:
        recovery = self.recovery
        return {
            "assigned_partitions": len(self.partitions),
            "partitions": {tp_name(tp): g.asdict() for tp, g in sorted(self.partitions.items())},
            "standby_partitions": sorted(tp_name(tp) for tp in self.standbys),
            "lag_total": self.lag_total,
            "tables": {name: t.asdict() for name, t in sorted(self.tables.items())},
            "recovery": None
            if recovery is None
            else {
                "finished": recovery.finished,
                "done": recovery.done,
                "total": recovery.total,
                "seconds": recovery.seconds,
            },
        }


@dataclass(frozen=True, slots=True)
class Distribution:
    """Durations over a sliding window of the latest samples (seconds)."""

    count: int
    avg: float
    p50: float
    p99: float
    max: float

    def asdict(self) -> dict[str, Any]:
        return {"count": self.count, "avg": self.avg, "p50": self.p50, "p99": self.p99,
                "max": self.max}  # fmt: skip


EMPTY_DISTRIBUTION = Distribution(0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """One agent: events its streams handed it, their rate over the rate window, the time an
    event spent in the agent (per-batch mean per event, over the sliding window), its crashes
    and supervisor restarts."""

    name: str
    events_total: int
    events_per_second: float
    runtime: Distribution
    errors: int
    restarts: int

    def asdict(self) -> dict[str, Any]:
        return {
            "events_total": self.events_total,
            "events_per_second": self.events_per_second,
            "runtime": self.runtime.asdict(),
            "errors": self.errors,
            "restarts": self.restarts,
        }


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """Everything the Monitor keeps, at one moment (names after Faust's Monitor where it has
    the figure: ``messages_received_total``, ``events_total``, ``commit_latency``, ...)."""

    uptime_seconds: float
    messages_received_total: int
    messages_received_by_topic: Mapping[str, int]
    messages_received_by_tp: Mapping[TP, int]
    messages_s: float
    events_total: int
    events_s: float
    events_runtime_avg: float
    agents: Mapping[str, AgentFigures]
    messages_sent: int
    messages_sent_by_topic: Mapping[str, int]
    messages_sent_by_tp: Mapping[TP, int]
    bytes_sent_by_tp: Mapping[TP, int]
    send_latency: Distribution
    send_errors: Mapping[str, int]
    commits: int
    commit_latency: Distribution
    tp_committed_offsets: Mapping[TP, int]
    changelog_records_by_table: Mapping[str, int]
    changelog_bytes_by_table: Mapping[str, int]
    rebalances: int
    rebalancing: bool
    rebalance_end_latency: Distribution
    assignments: int
    revocations: int
    dead_letters: Mapping[str, int]
    agent_errors: Mapping[str, int]
    agent_restarts: Mapping[str, int]
    loop_lag: float
    loop_lag_window: Distribution
    gauges: Gauges
    #: Records fetched and sent per second, by topic, over the rate window.
    messages_s_by_topic: Mapping[str, float] = field(default_factory=dict)
    messages_sent_s_by_topic: Mapping[str, float] = field(default_factory=dict)

    def asdict(self) -> dict[str, Any]:
        """Plain JSON values (what ``/stats/`` serves)."""
        return {
            "uptime_seconds": self.uptime_seconds,
            "messages_received_total": self.messages_received_total,
            "messages_received_by_topic": dict(self.messages_received_by_topic),
            "messages_received_by_tp": _by_tp(self.messages_received_by_tp),
            "messages_s": self.messages_s,
            "messages_s_by_topic": dict(self.messages_s_by_topic),
            "events_total": self.events_total,
            "events_s": self.events_s,
            "events_runtime_avg": self.events_runtime_avg,
            "agents": {name: a.asdict() for name, a in sorted(self.agents.items())},
            "messages_sent": self.messages_sent,
            "messages_sent_by_topic": dict(self.messages_sent_by_topic),
            "messages_sent_by_tp": _by_tp(self.messages_sent_by_tp),
            "messages_sent_s_by_topic": dict(self.messages_sent_s_by_topic),
            "bytes_sent_by_tp": _by_tp(self.bytes_sent_by_tp),
            "send_latency": self.send_latency.asdict(),
            "send_errors": dict(self.send_errors),
            "commits": self.commits,
            "commit_latency": self.commit_latency.asdict(),
            "tp_committed_offsets": _by_tp(self.tp_committed_offsets),
            "changelog_records_by_table": dict(self.changelog_records_by_table),
            "changelog_bytes_by_table": dict(self.changelog_bytes_by_table),
            "rebalances": self.rebalances,
            "rebalancing": self.rebalancing,
            "rebalance_end_latency": self.rebalance_end_latency.asdict(),
            "assignments": self.assignments,
            "revocations": self.revocations,
            "dead_letters": dict(self.dead_letters),
            "agent_errors": dict(self.agent_errors),
            "agent_restarts": dict(self.agent_restarts),
            "loop_lag": self.loop_lag,
            "loop_lag_window": self.loop_lag_window.asdict(),
            **self.gauges.asdict(),
        }


__all__ = [
    "EMPTY_DISTRIBUTION",
    "AgentFigures",
    "Distribution",
    "Gauges",
    "MonitorSnapshot",
    "PartitionGauge",
    "TableGauge",
    "tp_name",
]
