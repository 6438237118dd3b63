"""A stream's buffer of fetched batches, with back-pressure.

The conductor puts whole batches (one partition's records from one fetch) into the inboxes of
the streams reading that topic; a stream takes a batch and iterates over it without awaiting.
A fetch takes no more than the inboxes have :attr:`Inbox.room` for. When an inbox reaches its
limit the partitions feeding it are paused until it has drained to half of it, so that the
fetches that refill it are large: resuming as soon as one record was finished would refill it
one small batch at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from strm.kernel.spi import TP

#: A batch: the partition (``None`` for in-memory channels) and its items.
Batch = tuple["TP | None", Sequence[Any]]


class Inbox:
    __slots__ = (
        "_batches",
        "_on_drained",
        "_on_full",
        "_waiters",
        "closed_error",
        "full",
        "generation",
        "maxsize",
        "revoked",
        "size",
    )

    def __init__(
        self,
        maxsize: int,
        *,
        on_full: Callable[[Inbox], None] | None = None,
        on_drained: Callable[[Inbox], None] | None = None,
    ) -> None:
        self.maxsize = maxsize
        self.size = 0
        #: Reached ``maxsize`` and not yet drained to half of it: its partitions are paused.
        self.full = False
        self.generation = 0
        self.closed_error: BaseException | None = None
        self.revoked: frozenset[TP] = frozenset()
        self._batches: deque[Batch] = deque()
        self._waiters: list[asyncio.Future[None]] = []
        self._on_full = on_full
        self._on_drained = on_drained

    @property
    def room(self) -> int:
        """How many more records a fetch may bring for this inbox."""
        return max(0, self.maxsize - self.size)

    def set_callbacks(
        self, on_full: Callable[[Inbox], None], on_drained: Callable[[Inbox], None]
    ) -> None:
        self._on_full, self._on_drained = on_full, on_drained

    def put(self, tp: TP | None, items: Sequence[Any]) -> None:
        if not items:
            return
        self._batches.append((tp, items))
        self.size += len(items)
        self._wake()
        if not self.full and self.size >= self.maxsize:
            self.full = True
            if self._on_full is not None:
                self._on_full(self)

    def put_front(self, tp: TP | None, items: Sequence[Any]) -> None:
        """Return the unprocessed rest of a taken batch (still counted), to be taken first."""
        if items:
            self._batches.appendleft((tp, items))
            self._wake()

    async def get(self) -> Batch:
        while not self._batches:
            if self.closed_error is not None:
                raise self.closed_error
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self._batches.popleft()

    def release(self, count: int) -> None:
        """A reader finished ``count`` items it took: they no longer count against the limit.

        Items count from when they are put until they are processed, not until they are taken,
        so a stream holding a large batch still holds back fetching.
        """
        self.size -= count
        if self.full and self.size <= self.maxsize // 2:
            self.full = False
            if self._on_drained is not None:
                self._on_drained(self)

    async def get_before(self, deadline: float) -> Batch | None:
        """Like :meth:`get`, but ``None`` once the loop's clock passes ``deadline``."""
        loop = asyncio.get_running_loop()
        while not self._batches:
            if self.closed_error is not None:
                raise self.closed_error
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter = loop.create_future()
            self._waiters.append(waiter)
            handle = loop.call_later(remaining, _wake_future, waiter)
            try:
                await waiter
            finally:
                handle.cancel()
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return await self.get()

    def discard(self, tps: set[TP]) -> None:
        """Drop buffered batches of revoked partitions; streams finishing one of their batches
        notice the new generation and stop early."""
        self.generation += 1
        self.revoked = frozenset(tps)
        kept: deque[Batch] = deque()
        dropped = 0
        for batch in self._batches:
            if batch[0] is not None and batch[0] in tps:
                dropped += len(batch[1])
            else:
                kept.append(batch)
        self._batches = kept
        self.release(dropped)

    def close(self, error: BaseException) -> None:
        """Make waiting and later ``get`` calls raise ``error`` once the buffer is empty."""
        self.closed_error = error
        self._wake()

    def __len__(self) -> int:
        return self.size

    def _wake(self) -> None:
        """Wake every reader waiting (several share an inbox with ``concurrency > 1``)."""
        waiters = self._waiters
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            waiters.clear()


def _wake_future(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
