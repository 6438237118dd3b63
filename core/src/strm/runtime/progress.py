"""Per-partition progress of a stream: which offsets are finished, and so may be committed.

The common case costs nothing per event: a stream that processes a partition in order marks an
offset done when it asks for the next event (``auto``). Only streams that hold events back
(``take``, ``noack``, agents with ``concurrency > 1``) track acknowledgements individually, and a
commit never passes an offset that was delivered but not acknowledged.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from strm.kernel.spi import TP


class Acker(Protocol):
    """What an event acknowledges through: a partition's progress, or a stand-in (a ``tee``
    fan-out, a test context) that finishes something else when acknowledged."""

    manual: bool

    def ack(self, tp: TP, offset: int) -> None: ...


class Progress:
    """The offsets one consumer of a partition set has finished.

    ``done[tp]`` is the highest offset such that it and every offset delivered before it are
    finished. In manual mode, ``deliver`` records the order of delivery and ``ack`` may come in
    any order.
    """

    __slots__ = ("_acked", "_pending", "done", "manual")

    def __init__(self) -> None:
        self.done: dict[TP, int] = {}
        self.manual = False
        self._pending: dict[TP, deque[int]] = {}
        self._acked: dict[TP, set[int]] = {}

    def use_manual_acks(self) -> None:
        self.manual = True

    def deliver(self, tp: TP, offset: int) -> None:
        """In manual mode: this offset is now in flight and must be acked before it counts."""
        pending = self._pending.get(tp)
        if pending is None:
            pending = self._pending[tp] = deque()
        pending.append(offset)

    def ack(self, tp: TP, offset: int) -> None:
        pending = self._pending.get(tp)
        if not pending:
            return
        if pending[0] == offset:
            pending.popleft()
            done = offset
            acked = self._acked.get(tp)
            while acked and pending and pending[0] in acked:
                done = pending.popleft()
                acked.discard(done)
            self.done[tp] = done
        else:
            self._acked.setdefault(tp, set()).add(offset)

    def in_flight(self) -> int:
        """Offsets delivered in manual mode and not yet acknowledged."""
        return sum(len(p) for p in self._pending.values())

    def forget(self, tps: set[TP]) -> None:
        """Drop what is known of partitions that were revoked."""
        for tp in tps:
            self.done.pop(tp, None)
            self._pending.pop(tp, None)
            self._acked.pop(tp, None)
