"""What a checkpoint takes at its snapshot, and the transaction seal that lets the streams go on
while an exactly-once checkpoint commits.

Every send belongs to a checkpoint *interval*: the one open when the event that made it was
processed. Under exactly-once the transaction of an interval must hold exactly that interval's
records. At the snapshot the interval is closed: from then on only the checkpoint's own sends
(changelog records, seals) and the sends its events started before the snapshot (``send_soon``
records, ``spawn_send`` tasks) may enter the transaction; everything else waits for the commit
and goes into the next one. So the streams need not stop for the commit's round trips.

A send knows its interval from :data:`INTERVAL`, a context variable: the checkpoint sets it
for itself, ``spawn_send`` for the task it starts, the ``send_soon`` buffer for each record it
hands over. A send without one (an agent's ``await topic.send()``, a timer's) belongs to the
interval open now.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strm.runtime.table_changes import ShardChanges

#: The checkpoint interval a send belongs to (``None``: the one open now).
INTERVAL: ContextVar[int | None] = ContextVar("strm_checkpoint_interval", default=None)


class TransactionSeal:
    """Numbers the checkpoint intervals and, from a snapshot until its checkpoint ends, keeps
    the open transaction to that snapshot's sends."""

    def __init__(self) -> None:
        #: The interval open now.
        self.interval = 0
        #: The interval whose checkpoint owns the transaction, while it runs.
        self.sealed: int | None = None
        self._lifted: asyncio.Future[None] | None = None

    def close(self) -> int:
        """Close the open interval (at a snapshot) and seal the transaction to it."""
        closed = self.sealed = self.interval
        self.interval += 1
        return closed

    def lift(self) -> None:
        """The closed interval's checkpoint ended: the waiting sends go on."""
        self.sealed = None
        lifted, self._lifted = self._lifted, None
        if lifted is not None:
            lifted.set_result(None)

    async def admit(self) -> None:
        """Wait until a send of the current context may join the transaction."""
        while self.sealed is not None and INTERVAL.get() != self.sealed:
            if self._lifted is None:
                self._lifted = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._lifted)


@dataclass
class Snapshot:
    """What a checkpoint makes durable, taken between two events with no await in between."""

    #: The interval it closes.
    interval: int
    #: The tables' changes of the interval.
    changes: list[ShardChanges]
    #: The interval's ``spawn_send`` tasks still running (each one's result is its error).
    sends: list[asyncio.Task[BaseException | None]]
    #: How many ``send_soon`` records were ever queued, at the snapshot.
    soon_mark: int


__all__ = ["INTERVAL", "Snapshot", "TransactionSeal"]
