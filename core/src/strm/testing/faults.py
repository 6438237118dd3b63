"""Deterministic fault injection: kill a worker at a chosen point of the checkpoint protocol.

A transport that supports it (the memory transport does: ``app.transport().faults = plan``)
consults a :class:`FaultPlan` at each cut point. When the plan's cut is reached for the
``after``-th time, the worker "dies" there: what it did up to that point stays on the broker,
and from then on every call of its producers and consumers raises :class:`WorkerKilled`, so
nothing after the cut reaches the broker — as if the process had been SIGKILLed at that
instant. Its local stores keep what was written before the cut. A new app on the same broker
and data directory then plays the next owner::

    plan = FaultPlan(Cut.SEAL, after=2)
    app.transport().faults = plan
    ... run until plan.killed, stop the app (its errors are the kill's), start another

The cut points are the members of :class:`Cut`, in the order a checkpoint reaches them (see
docs/architecture.md, "Checkpoints").
"""

from __future__ import annotations

import enum


class Cut(enum.Enum):
    #: After the k-th table record sent to a changelog (a checkpoint cut short mid-way).
    CHANGELOG_RECORD = "changelog-record"
    #: After the k-th checkpoint seal sent (some table partitions sealed, others not).
    SEAL = "seal"
    #: Instead of the k-th offset commit (a consumer commit, or a transaction commit): the
    #: checkpoint's records and (at least once) the stores are written, the offsets are not.
    BEFORE_COMMIT = "before-commit"
    #: After the k-th offset commit: under exactly-once, before the stores are written.
    AFTER_COMMIT = "after-commit"
    #: After the k-th changelog record a consumer returned (a recovery cut short).
    RECOVERY_RECORD = "recovery-record"


class WorkerKilled(Exception):
    """The worker died at a fault plan's cut; nothing it does reaches the broker any more."""


class FaultPlan:
    """Where to kill a worker: at the ``after``-th time ``cut`` is reached."""

    def __init__(self, cut: Cut, after: int = 1) -> None:
        if after < 1:
            raise ValueError(f"after must be 1 or more, not {after}")
        self.cut = cut
        self.after = after
        self.reached = 0
        self.killed = False

    def __repr__(self) -> str:
        state = "killed" if self.killed else f"{self.reached} of {self.after} reached"
        return f"<FaultPlan {self.cut.value} #{self.after}: {state}>"

    def check_alive(self) -> None:
        if self.killed:
            raise WorkerKilled(f"the worker was killed ({self!r})")

    def take(self, cut: Cut, count: int = 1) -> int | None:
        """Count ``count`` occurrences of ``cut``; if the kill falls among them, how many of
        them happen before it (the one it falls on included), else ``None``."""
        if cut is not self.cut or self.killed:
            return None
        if self.reached + count < self.after:
            self.reached += count
            return None
        happening = self.after - self.reached
        self.reached = self.after
        return happening

    def kill(self) -> WorkerKilled:
        """Die now; the error for the caller to raise."""
        self.killed = True
        return WorkerKilled(f"the worker was killed ({self!r})")
