"""``app.flow_control``: suspend and resume the delivery of events to every stream, as
Faust's ``FlowControlEvent`` does.

While suspended, the conductor pauses every assigned partition, so no new records are fetched;
events already handed to a stream are still processed, and commits go on. ``acquire()`` waits
until delivery is resumed, for code that must not run meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FlowControl:
    """Suspended or active; each change is passed to ``on_change`` (the conductor's pause)."""

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self._on_change = on_change
        self._suspended = False
        self._resumed: asyncio.Event | None = None

    def suspend(self) -> None:
        if not self._suspended:
            self._suspended = True
            if self._resumed is not None:
                self._resumed.clear()
            self._on_change(True)

    def resume(self) -> None:
        if self._suspended:
            self._suspended = False
            if self._resumed is not None:
                self._resumed.set()
            self._on_change(False)

    def is_active(self) -> bool:
        return not self._suspended

    async def acquire(self) -> None:
        """Return at once while active; else when :meth:`resume` is called."""
        if not self._suspended:
            return
        if self._resumed is None:
            self._resumed = asyncio.Event()
        await self._resumed.wait()

    def __repr__(self) -> str:
        return f"<FlowControl {'active' if self.is_active() else 'suspended'}>"


__all__ = ["FlowControl"]
