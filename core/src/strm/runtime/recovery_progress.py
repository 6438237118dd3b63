"""How far a table recovery has got: what sensors receive every second while changelogs are
replayed, and once more when the replay is over.

A snapshot rather than the live recovery, so that an observer (the worker's terminal display, a
plugin's sensor) can keep it, compare it with the next one, or render it later without racing
the replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from strm.kernel.spi import TP

if TYPE_CHECKING:
    from strm.tables.table import Collection


@dataclass(frozen=True)
class TableRecovery:
    """One table's share: the changelog partitions being replayed and their records."""

    table: str
    partitions: int
    done: int
    total: int


@dataclass(frozen=True)
class RecoveryProgress:
    tables: tuple[TableRecovery, ...]
    seconds: float
    finished: bool

    @property
    def partitions(self) -> int:
        return sum(t.partitions for t in self.tables)

    @property
    def done(self) -> int:
        return sum(t.done for t in self.tables)

    @property
    def total(self) -> int:
        return sum(t.total for t in self.tables)

    @property
    def rate(self) -> float:
        """Records replayed per second so far."""
        return self.done / max(self.seconds, 1e-9)

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far; ``None`` before any record was replayed."""
        if self.done >= self.total:
            return 0.0
        if not self.done:
            return None
        return (self.total - self.done) / self.rate

    def describe(self) -> str:
        """One line for a person: the totals first, then each table's share."""
        if self.finished:
            return (
                f"recovered {counted(len(self.tables), 'table')} "
                f"({counted(self.partitions, 'partition')}): {self.done:,} records in "
                f"{self.seconds:.2f} s ({self.rate:,.0f} records/s)"
            )
        percent = 100 * self.done / self.total if self.total else 100.0
        shares = "; ".join(
            f"{t.table} {counted(t.partitions, 'partition')} {t.done:,}/{t.total:,}"
            for t in self.tables
        )
        return (
            f"recovering tables: {self.done:,}/{self.total:,} records ({percent:.0f}%), "
            f"{self.rate:,.0f} records/s, {eta_text(self.total - self.done, self.rate)}: "
            f"{shares}"
        )


def eta_text(left: int, rate: float) -> str:
    """``'ETA 1 min 5 s'`` for ``left`` items at ``rate`` per second; ``'ETA ?'`` before the rate
    is known (nothing done yet), ``'ETA 0 s'`` when nothing is left."""
    if left <= 0:
        return "ETA 0 s"
    if rate <= 0:
        return "ETA ?"
    return f"ETA {duration(left / rate)}"


def duration(seconds: float) -> str:
    """``'45 s'``, ``'3 min 5 s'``, ``'2 h 5 min'``: rounded up to whole seconds, for people."""
    whole = max(0, int(-(-seconds // 1)))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def counted(number: int, noun: str) -> str:
    """``'1 table'``, ``'2 tables'``: for the worker's lines, which count tables and partitions."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


class Recovery:
    """The changelog partitions being replayed, and how far each has to go: the live recovery
    the table manager drives, of which :meth:`progress` takes the snapshots."""

    def __init__(self, targets: dict[TP, tuple[int, int]]) -> None:
        self.targets = targets  # tp -> (first offset to read, end offset)
        self.pending = set(targets)
        self.done: dict[TP, int] = dict.fromkeys(targets, 0)
        #: Whether the fetch loop is handing changelog records over: the consumer's positions
        #: are then past records not yet in the stores, so they prove nothing.
        self.busy = False
        self.started = time.monotonic()
        self.finished = asyncio.Event()

    @property
    def total(self) -> int:
        return sum(end - start for start, end in self.targets.values())

    @property
    def applied(self) -> int:
        return sum(self.done.values())

    def progress(self, tables: Mapping[str, Collection], *, finished: bool) -> RecoveryProgress:
        """A snapshot by table; ``tables`` maps changelog topics to their tables."""
        shares: dict[str, list[int]] = {}
        for tp, (start, end) in sorted(self.targets.items()):
            share = shares.setdefault(tables[tp.topic].name, [0, 0, 0])
            share[0] += 1
            share[1] += self.done[tp]
            share[2] += end - start
        return RecoveryProgress(
            tables=tuple(TableRecovery(name, *share) for name, share in shares.items()),
            seconds=time.monotonic() - self.started,
            finished=finished,
        )
