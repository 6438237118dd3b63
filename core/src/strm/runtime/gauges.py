"""The figures read when asked rather than kept: lag per partition, table sizes, recovery.

Keeping them current would cost work on every batch for a figure read once a second at most;
reading them costs a walk over the assigned partitions and the tables, with no I/O: the end
offsets come from the consumer's :meth:`strm.kernel.spi.HighwaterConsumer.highwater`, the sizes from
the stores' :meth:`strm.kernel.spi.Store.size`. The Monitor's snapshot includes them, and a sensor
plugin that keeps its own counters calls :func:`read_gauges` itself (it works with the Monitor
turned off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strm.kernel.spi import TP, HighwaterConsumer
from strm.monitor_snapshot import Gauges, PartitionGauge, TableGauge

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.runtime.recovery_progress import RecoveryProgress


def read_gauges(app: AppLike, recovery: RecoveryProgress | None = None) -> Gauges:
    """The pulled figures of ``app`` now; ``recovery`` is the last progress a sensor heard
    (``None``: no recovery happened)."""
    return Gauges(
        partitions=_partitions(app),
        standbys=frozenset(_standbys(app)),
        tables=_tables(app, recovery),
        recovery=recovery,
    )


def _partitions(app: AppLike) -> dict[TP, PartitionGauge]:
    conductor = app.conductor
    consumer = conductor.consumer
    highwater = consumer.highwater if isinstance(consumer, HighwaterConsumer) else None
    gauges: dict[TP, PartitionGauge] = {}
    for tp in conductor.assignment:
        readers = conductor.subscriptions.get(tp.topic)
        if not readers:  # a changelog or a standby copy: the tables account for it
            continue
        committed = conductor.committed.get(tp)
        low: int | None = None
        for sub in readers:
            if sub.partition is not None and sub.partition != tp.partition:
                continue
            done = sub.progress.done.get(tp)
            if done is None:
                low = None
                break
            low = done if low is None else min(low, done)
        read = committed if low is None else low + 1
        gauges[tp] = PartitionGauge(
            tp, highwater(tp) if highwater is not None else None, read, committed
        )
    return gauges


def _standbys(app: AppLike) -> set[TP]:
    consumer = app.conductor.consumer
    return consumer.standbys() if consumer is not None else set()


def _tables(app: AppLike, recovery: RecoveryProgress | None) -> dict[str, TableGauge]:
    manager = app.runtime.tables_in_use
    if manager is None:
        return {}
    replay = {t.table: t for t in recovery.tables} if recovery is not None else {}
    finished = recovery is None or recovery.finished
    gauges: dict[str, TableGauge] = {}
    for name, table in manager.tables.items():
        size, partitions = table.stored_size()
        share = replay.get(name)
        gauges[name] = TableGauge(
            name,
            size,
            partitions,
            recovered=finished or share is None or share.done >= share.total,
            recovery_done=share.done if share is not None else 0,
            recovery_total=share.total if share is not None else 0,
        )
    return gauges


__all__ = ["read_gauges"]
