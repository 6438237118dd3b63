"""Lists of events from a stream: the engine of ``take`` and ``batches``.

A list is handed out once it holds ``max_`` events or ``within`` seconds passed since its first
one; its events are acknowledged when the next list is asked for, so a crash while a list is
being processed leaves its offsets uncommitted and the records are read again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strm.runtime.stream_reading import EVENTS, TICK, StreamAcks

if TYPE_CHECKING:
    from strm.events import Event
    from strm.streams import Stream

#: A duration as Faust takes it: seconds, or a ``timedelta``.
Seconds = float | timedelta


def seconds(duration: Seconds | None) -> float | None:
    """Seconds of a duration; Faust reads no duration (``None`` or 0) as "no time limit"."""
    if isinstance(duration, timedelta):
        duration = duration.total_seconds()
    return duration or None


async def take_batches(
    self: Stream,
    max_: int,
    within: float | None,
    project: Callable[[Event], Any],
    ack: bool = True,
) -> AsyncGenerator[list[Any], None]:
    if max_ < 1:
        raise ValueError(f"take(max_={max_!r}): must be at least 1")
    self._use_manual_acks()
    root = self.root
    loop = asyncio.get_running_loop()
    source = self._iterate(EVENTS, ticks=True)
    buffer: list[Event] = []

    def idle_deadline() -> float | None:
        # With no list started, a tick every ``within`` lets derived streams see time pass.
        return None if within is None else loop.time() + within

    try:
        root.deadline = idle_deadline()
        while True:
            try:
                event = await source.__anext__()
            except StopAsyncIteration:
                break
            if event is not TICK:
                if not buffer and within is not None:
                    root.deadline = loop.time() + within  # the list's time starts now
                buffer.append(event)
                if len(buffer) < max_:
                    continue
            elif not buffer:
                root.deadline = idle_deadline()
                continue
            root.deadline = None
            batch, buffer = buffer, []
            yield [project(e) for e in batch]
            if ack:
                _ack_all(batch)
            root.deadline = idle_deadline()
        if buffer:
            root.deadline = None
            yield [project(e) for e in buffer]
            if ack:
                _ack_all(buffer)
    finally:
        root.deadline = None
        await source.aclose()


def _ack_all(events: list[Event]) -> None:
    """Finish a list the loop body is done with: in one call when every event came through the
    same stream's acknowledgements (the usual case), else event by event."""
    acks = events[0]._progress
    if isinstance(acks, StreamAcks) and all(e._progress is acks for e in events):
        acks.ack_events(events)
        return
    for event in events:
        event.ack()
