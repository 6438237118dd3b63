"""``topic.send_soon(...)``: sending from synchronous code.

``send_soon`` encodes the record at once and appends it here; one task per app hands the
records to the producer in the order they were sent, and the next checkpoint waits until all
of them queued before its snapshot are handed over, so an event's offset is never committed
before what it sent with ``send_soon`` (the same guarantee as an awaited ``send``). Each record
keeps its checkpoint interval: under exactly-once it goes into that interval's transaction
(strm.runtime.snapshots). With ``producer_threaded=True`` the
records go to a second producer on its own thread (:mod:`strm.kernel.transports.threaded`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple

from strm.kernel.deliveries import DeliveryRelay, complete
from strm.kernel.spi import Headers, RecordMetadata
from strm.runtime.snapshots import INTERVAL, TransactionSeal

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


class SoonRecord(NamedTuple):
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None
    timestamp: float | None
    headers: Headers
    source: tuple[Any, int] | None
    future: asyncio.Future[RecordMetadata]
    #: The checkpoint interval it was queued in (its transaction, under exactly-once).
    interval: int


class SoonBuffer:
    """The records ``send_soon`` queued and not yet handed to a producer."""

    def __init__(self, app: AppLike, seal: TransactionSeal) -> None:
        self.app = app
        self.seal = seal
        self._pending: deque[SoonRecord] = deque()
        self._deliveries = DeliveryRelay(complete)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._failure: BaseException | None = None
        #: Records ever queued, and ever handed over (or failed to be): a checkpoint waits
        #: for those queued before its snapshot only.
        self.queued = 0
        self._handed = 0

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def failed(self) -> bool:
        """A record could not be handed over since the last flush (which will raise it)."""
        return self._failure is not None

    def add(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None,
        timestamp: float | None,
        headers: Headers,
        source: tuple[Any, int] | None,
    ) -> asyncio.Future[RecordMetadata]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[RecordMetadata] = loop.create_future()
        interval = self.seal.interval
        self._pending.append(
            SoonRecord(topic, key, value, partition, timestamp, headers, source, future, interval)
        )
        self.queued += 1
        if not self._tasks:
            self._tasks = [
                self.app.runtime.spawn(self._hand_over(), name="strm-send-soon"),
                self.app.runtime.spawn(self._deliveries.run(), name="strm-send-soon-deliveries"),
            ]
        self._idle.clear()
        self._wake.set()
        return future

    async def _hand_over(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                record = self._pending[0]
                INTERVAL.set(record.interval)
                try:
                    sender = await self.app.get_soon_sender()
                    delivery = await sender.send(
                        record.topic,
                        record.key,
                        record.value,
                        partition=record.partition,
                        timestamp=record.timestamp,
                        headers=record.headers,
                        source=record.source,
                    )
                except Exception as exc:
                    self._pending.popleft()
                    self._fail(record.future, exc)
                else:
                    self._pending.popleft()
                    self._deliveries.add(delivery, record.future)
                self._handed += 1
                self._progress.set()
            self._idle.set()

    def _fail(self, future: asyncio.Future[RecordMetadata], error: BaseException) -> None:
        if self._failure is None:
            self._failure = error  # raised by the next flush
        complete(future, None, error)

    async def flush(self, upto: int | None = None) -> None:
        """Wait until every queued record (the first ``upto`` ever queued) is with its
        producer; raise the first record that could not be handed over since the last flush
        (the checkpoint then commits nothing)."""
        if upto is None:
            while self._pending or not self._idle.is_set():
                self._wake.set()
                await self._idle.wait()
        else:
            while self._handed < upto:
                self._progress.clear()
                self._wake.set()
                await self._progress.wait()
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    async def stop(self) -> None:
        """Hand over what is queued, then stop the tasks."""
        try:
            if self._tasks:
                await self.flush()
        finally:
            tasks, self._tasks = self._tasks, []
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["SoonBuffer", "SoonRecord"]
