"""The gate a checkpoint closes so that its snapshot falls between two events.

A checkpoint pairs the committable source offsets with the table changes they account for. An
event whose processing has begun but not finished (its agent awaits a send, say) may already
have changed a table while its offset is not committable yet; a snapshot taken then would hold
the change without the offset, and after a crash the event would change the table a second
time. So a checkpoint closes the gate: streams stop handing out records, each at its next event
boundary, the checkpoint waits (bounded) until no record is in flight, and takes offsets and
table changes together with no await between them. Closed and open are one attribute read per
record for a stream; waiting costs nothing while the gate is open.
"""

from __future__ import annotations

import asyncio


class CheckpointGate:
    __slots__ = ("_opened", "closed")

    def __init__(self) -> None:
        self.closed = False
        self._opened: asyncio.Event | None = None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._opened = asyncio.Event()

    def open(self) -> None:
        opened, self._opened = self._opened, None
        self.closed = False
        if opened is not None:
            opened.set()

    async def passage(self) -> None:
        """Wait until the gate is open (streams call it only when they saw it closed)."""
        while self.closed and self._opened is not None:
            await self._opened.wait()
