"""A producer on an event loop of its own thread (``producer_threaded=True``).

:class:`ThreadedProducer` is a :class:`strm.kernel.spi.Producer` for the app's event loop whose real
producer (made by the transport) lives in a second thread with its own loop, so the client's
batching, compression and network I/O for ``send_soon`` records run beside the agents instead
of between them. Records cross over in a deque; the thread is woken once per burst, not once
per record, and the deliveries come back in batches too, so no task or cross-thread call is
made per record.

Only transports whose producers may run on another loop in another thread say so with
``producer_runs_in_thread = True`` (Kafka's does; the ``memory://`` broker's producer wakes
readers on the app's loop and cannot).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from strm.kernel.deliveries import DeliveryRelay, complete
from strm.kernel.spi import Producer, ProducerRecord, RecordMetadata
from strm.kernel.transports import TransportError

#: A delivery's outcome on its way back to the app's loop: the app's future and a result or
#: an exception.
Outcome = tuple["asyncio.Future[RecordMetadata]", RecordMetadata | None, BaseException | None]


class ThreadedProducer:
    """Runs ``make()`` (a transport's producer) in a thread named ``name``."""

    def __init__(self, make: Callable[[], Producer], *, name: str) -> None:
        self._make = make
        self.name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the thread's
        self._caller: asyncio.AbstractEventLoop | None = None  # the app's
        self._producer: Producer | None = None
        # app loop -> thread: records to send; the flag says a wake-up is already on its way
        self._outbox: deque[tuple[ProducerRecord, asyncio.Future[RecordMetadata]]] = deque()
        self._wake_scheduled = False
        # thread -> app loop: settled deliveries
        self._settled: deque[Outcome] = deque()
        self._settle_scheduled = False
        # thread-side state, touched only on the thread's loop (an Event binds to the loop
        # that first waits on it, so these belong to the thread's)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._deliveries = DeliveryRelay(self._report)
        self._failure: BaseException | None = None  # the first since the last flush
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        state = "running" if self._thread is not None and self._thread.is_alive() else "stopped"
        return f"<ThreadedProducer {self.name!r} ({state})>"

    # -- lifecycle (app loop) ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._caller = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=self.name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(ready)
        except BaseException:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            raise

    async def stop(self) -> None:
        """Send what is queued, stop the real producer, end the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            await self._call(self._stop_inside())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            self._thread = None
            self._settle()

    # -- the Producer interface (app loop) --------------------------------------------------------

    async def send(self, record: ProducerRecord) -> Awaitable[RecordMetadata]:
        loop = self._loop
        if loop is None or self._caller is None:
            raise TransportError(f"{self!r} is not started; cannot send to {record.topic}")
        future: asyncio.Future[RecordMetadata] = self._caller.create_future()
        self._outbox.append((record, future))
        if not self._wake_scheduled:
            self._wake_scheduled = True
            loop.call_soon_threadsafe(self._wake_up)
        return future

    async def flush(self) -> None:
        """Everything sent so far is on the broker (or its error is raised here)."""
        await self._call(self._flush_inside())

    async def partitions_for(self, topic: str) -> int:
        producer = self._producer
        if producer is None:
            raise TransportError(f"{self!r} is not started; cannot look up {topic}")
        count: int = await self._call(producer.partitions_for(topic))
        return count

    async def _call(self, coro: Any) -> Any:
        """Run a coroutine on the thread's loop and wait for it on the app's."""
        loop = self._loop
        if loop is None:
            coro.close()
            raise TransportError(f"{self!r} is not started")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    # -- inside the thread ------------------------------------------------------------------------

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_inside())
        except BaseException as exc:
            loop.close()
            ready.set_exception(exc)
            return
        self._loop = loop
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            for task in self._tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.close()
            self._loop = None

    async def _start_inside(self) -> None:
        producer = self._make()
        await producer.start()
        self._producer = producer
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(), name=f"{self.name}-send"),
            loop.create_task(self._deliveries.run(), name=f"{self.name}-deliveries"),
        ]

    def _wake_up(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def _pump(self) -> None:
        """Hand the queued records to the real producer, in order."""
        assert self._producer is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Cleared before the outbox is emptied: a record added after the last popleft
            # finds the flag down and schedules another wake-up.
            self._wake_scheduled = False
            while self._outbox:
                record, future = self._outbox.popleft()
                try:
                    delivery = await self._producer.send(record)
                except Exception as exc:
                    self._report(future, None, exc)
                    continue
                self._deliveries.add(delivery, future)
            if not self._outbox:
                self._idle.set()

    def _report(
        self,
        future: asyncio.Future[RecordMetadata],
        metadata: RecordMetadata | None,
        error: BaseException | None,
    ) -> None:
        """An outcome, passed to the app's loop in batches (one wake-up per burst)."""
        if error is not None and self._failure is None:
            self._failure = error
        self._settled.append((future, metadata, error))
        if not self._settle_scheduled and self._caller is not None:
            self._settle_scheduled = True
            self._caller.call_soon_threadsafe(self._settle)

    async def _flush_inside(self) -> None:
        assert self._producer is not None
        while self._outbox or not self._idle.is_set():
            self._wake_up()
            await self._idle.wait()
        await self._producer.flush()
        await self._deliveries.idle.wait()  # every delivery is complete after the flush
        failure, self._failure = self._failure, None
        if failure is not None:
            raise TransportError(f"{self.name}: a record was not delivered: {failure}") from failure

    async def _stop_inside(self) -> None:
        try:
            await self._flush_inside()
        finally:
            if self._producer is not None:
                await self._producer.stop()

    # -- back on the app's loop -------------------------------------------------------------------

    def _settle(self) -> None:
        self._settle_scheduled = False
        while self._settled:
            complete(*self._settled.popleft())


__all__ = ["ThreadedProducer"]
