"""Completing the futures of records sent on someone's behalf, in order, without a task per
record: what ``send_soon`` and the threaded producer both need.

A producer's delivery is any awaitable (Kafka's is not a future, so no done-callback can be
hung on it); :class:`DeliveryRelay` awaits them one after the other in one task and reports
each outcome.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from strm.kernel.spi import RecordMetadata

#: ``report(future, metadata, error)``: exactly one of ``metadata`` and ``error`` is set.
Report = Callable[
    ["asyncio.Future[RecordMetadata]", RecordMetadata | None, BaseException | None], None
]


def complete(
    future: asyncio.Future[RecordMetadata],
    metadata: RecordMetadata | None,
    error: BaseException | None,
) -> None:
    """Settle ``future`` unless it is settled already. An error is marked as retrieved: a
    flush reports it too, so an unawaited future must not log it again when collected."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
        future.exception()
    else:
        assert metadata is not None
        future.set_result(metadata)


class DeliveryRelay:
    """Deliveries handed over with :meth:`add`, awaited in order by :meth:`run` (one task on
    the loop that awaits them), each outcome passed to ``report``."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._queue: deque[tuple[Awaitable[RecordMetadata], asyncio.Future[RecordMetadata]]]
        self._queue = deque()
        self._added = asyncio.Event()
        #: Set while every delivery added so far has been reported.
        self.idle = asyncio.Event()
        self.idle.set()

    def add(
        self, delivery: Awaitable[RecordMetadata], future: asyncio.Future[RecordMetadata]
    ) -> None:
        self._queue.append((delivery, future))
        self.idle.clear()
        self._added.set()

    async def run(self) -> None:
        while True:
            await self._added.wait()
            self._added.clear()
            while self._queue:
                delivery, future = self._queue.popleft()
                try:
                    metadata = await delivery
                except Exception as exc:
                    self._report(future, None, exc)
                else:
                    self._report(future, metadata, None)
            self.idle.set()


__all__ = ["DeliveryRelay", "Report", "complete"]
