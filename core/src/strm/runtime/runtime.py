"""The running part of an app: one object that starts the conductor, the producers, the tables,
the agents, the timers and the services, owns every task they run, makes the checkpoints, and
stops them in order.

Why an object of its own: the ``App`` is what the user configures and decorates at import time;
what runs exists only between start and stop, and every task of it must end with it. All tasks
run in one ``asyncio.TaskGroup``, held open by the runtime's own task (``strm-runtime``) from
start to stop, so none outlives the app.

A task that fails does not abort the group (that would cancel every task at once, and the
consumer would leave without its last commit); its error is logged in one line, becomes the
runtime's :attr:`error`, and wakes the runtime's task, which stops everything in the reverse
order of start and then raises the error: out of :meth:`stop`, so ``async with app.running()``
raises it and ``strm worker`` exits with code 1. Callbacks of the user (agents, timers,
``on_window_close``, rebalance listeners) are supervised where they are called and never reach
this path unless their supervisor gives up.

Tasks spawned while the app is not running (a test that iterates a stream, a ``send_soon``
before start) run outside the group; the runtime still watches them and cancels them at stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from strm.runtime.conductor import Conductor
from strm.runtime.loop_lag import sampling_loop_lag
from strm.runtime.producing import Producers
from strm.runtime.snapshots import INTERVAL, Snapshot

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.kernel.spi import TP, Consumer
    from strm.runtime.table_manager import TableManager

logger = logging.getLogger("strm.runtime")


class Runtime:
    """Starts, owns and stops what an app runs (see the module's docstring)."""

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.conductor = Conductor(app)
        self.producers = Producers(app)
        #: The first error that stopped the app, raised by :meth:`stop`.
        self.error: BaseException | None = None
        #: Log a failing task's traceback, not only its line (``--debug`` or ``debug=True``).
        self.tracebacks = False
        self._tables: TableManager | None = None
        self._group: asyncio.TaskGroup | None = None
        self._main: asyncio.Task[None] | None = None
        self._failed: asyncio.Event | None = None
        #: Set by a stop request or a failure: the runtime's task then stops everything.
        self._wake: asyncio.Event | None = None
        self._loose: set[asyncio.Task[Any]] = set()
        #: Sends of ``spawn_send`` that the next checkpoint waits for.
        self._sends: set[asyncio.Task[BaseException | None]] = set()
        #: True from the end of the start's table recovery until the stop begins (the web
        #: server's ``/health``).
        self.recovered = False

    # -- what runs -------------------------------------------------------------------------------

    @property
    def tables(self) -> TableManager:
        """The app's tables (the ``TableManager`` extension class), made on first use."""
        if self._tables is None:
            cls: type[TableManager] = self.app.extension_class("TableManager")
            self._tables = cls(self.app)
        return self._tables

    @property
    def tables_in_use(self) -> TableManager | None:
        """The table manager if the app has declared a table, else ``None`` (made by none)."""
        return self._tables

    # -- checkpoints -----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Close the checkpoint interval: its table changes, its ``spawn_send`` tasks and its
        ``send_soon`` records are the checkpoint's; under exactly-once the transaction is
        sealed to them until :meth:`checkpoint_ended` (strm.runtime.snapshots)."""
        producers = self.producers
        return Snapshot(
            producers.seal.close(),
            self._tables.take_changes() if self._tables is not None else [],
            list(self._sends),
            producers.soon.queued,
        )

    def checkpoint_ended(self) -> None:
        """The snapshot's checkpoint is over (committed, failed or found nothing to do)."""
        self.producers.seal.lift()

    def has_pending_writes(self) -> bool:
        """Table changes not yet in a changelog, ``send_soon`` records not yet handed over, or
        an open transaction: a checkpoint is due even without offsets to commit."""
        if self.producers.has_pending():
            return True
        return self._tables is not None and self._tables.has_dirty()

    def spawn_send(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a send started from synchronous code (a window's ``on_window_close`` forward);
        the next checkpoint waits for it, and commits nothing if it failed."""
        token = INTERVAL.set(self.producers.seal.interval)  # the task's copy keeps it
        try:
            task = self.spawn(coro, name="strm-send")
        finally:
            INTERVAL.reset(token)
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def checkpoint(
        self,
        offsets: Mapping[TP, int],
        consumer: Consumer | None,
        snapshot: Snapshot,
        positions: Mapping[int, Mapping[TP, int]] | None = None,
    ) -> None:
        """Make a snapshot durable: ``offsets`` and what the events before them did (table
        changes, sends) (docs/architecture.md, "Checkpoints").

        At least once: the changelog records are sent and everything is flushed; then a seal per
        table partition, flushed; then the stores are written; then the offsets committed.
        Exactly once: records and seals go into the producer's transaction, which commits the
        offsets with them; the stores are written after. The seals also keep the repartition
        streams' source ``positions`` of the snapshot, by partition.
        """
        token = INTERVAL.set(snapshot.interval)  # its sends join the snapshot's transaction
        try:
            await self._make_durable(offsets, consumer, snapshot, positions or {})
        finally:
            INTERVAL.reset(token)

    async def _make_durable(
        self,
        offsets: Mapping[TP, int],
        consumer: Consumer | None,
        snapshot: Snapshot,
        positions: Mapping[int, Mapping[TP, int]],
    ) -> None:
        if snapshot.sends:
            for failure in await asyncio.gather(*snapshot.sends):
                if failure is not None:  # a send of this snapshot failed: commit nothing
                    raise failure
        tables, producers, mark = self._tables, self.producers, snapshot.soon_mark
        written = await tables.send_changes(snapshot.changes) if tables is not None else []
        sensors = self.app.sensors
        if written and sensors.wants("on_changelog"):
            for w in written:
                nbytes = sum(len(key) + len(value or b"") for key, value in w.puts.items())
                sensors.on_changelog(w.change.table.name, w.tp, len(w.puts), nbytes)
        if self.app.exactly_once:
            seals = (
                await tables.send_seals(offsets, written, positions) if tables is not None else []
            )
            await producers.make_durable(offsets, mark)
            if offsets or producers.in_transaction:
                await producers.commit_transaction(offsets)
            producers.seal.lift()  # the next interval's sends need not wait for the stores
            if tables is not None:
                await tables.write_stores(written, seals)
            return
        await producers.make_durable(offsets, mark)
        if tables is not None:
            seals = await tables.send_seals(offsets, written, positions)
            if seals:
                await producers.make_durable(offsets, mark)
            await tables.write_stores(written, seals)
        if offsets and consumer is not None:
            await consumer.commit(offsets)

    # -- tasks -----------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of the app. Its result is its error (``None`` when it
        returned): a failure is logged once and stops the app, and whoever awaits the task
        can still tell that it failed without raising inside the group."""
        watched = self._watched(coro, name)
        group = self._group
        if group is not None:
            task = group.create_task(watched, name=name)
        else:
            task = asyncio.get_running_loop().create_task(watched, name=name)
            self._loose.add(task)
            task.add_done_callback(self._loose.discard)
        # A task cancelled before its first step never started ``coro``: close it quietly.
        task.add_done_callback(lambda _: coro.close())
        return task

    async def _watched(self, coro: Coroutine[Any, Any, Any], name: str) -> BaseException | None:
        try:
            await coro
        except Exception as exc:
            self._log_failure(name, exc)
            self.fail(exc)
            return exc
        return None

    def _log_failure(self, name: str, error: BaseException) -> None:
        app_id = self.app.conf.id if self.app.configured else "?"
        detail = "" if self.tracebacks else " (the traceback is logged with --debug)"
        logger.error(
            "app %r: %s failed: %s: %s%s",
            app_id,
            name,
            type(error).__name__,
            error,
            detail,
            exc_info=error if self.tracebacks else None,
        )

    def fail(self, error: BaseException) -> None:
        """A part of the app failed beyond recovery: stop everything, then raise ``error``."""
        if self.error is None:
            self.error = error
        if self._failed is not None:
            self._failed.set()
        if self._wake is not None:
            self._wake.set()

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    async def wait_failed(self) -> BaseException:
        """Wait until a part of the app fails; returns its error."""
        if self._failed is None:
            self._failed = asyncio.Event()
        if self.error is None:
            await self._failed.wait()
        assert self.error is not None
        return self.error

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._main is not None

    @property
    def stopping(self) -> bool:
        """Asked to stop, or failed: loops of tasks and services end."""
        return self._wake is not None and self._wake.is_set()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, returning early when the app stops."""
        wake = self._wake
        if wake is None or not self.is_running:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await wake.wait()

    async def start(self) -> None:
        """Start every part, in the runtime's own task; return when all have started (raise
        what made the start fail, after undoing what had started)."""
        if self._main is not None:
            return
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._failed is None:
            self._failed = asyncio.Event()
        if self.error is not None:
            self._wake.set()
        started: asyncio.Future[None] = loop.create_future()
        main = self._main = loop.create_task(self._run(started), name="strm-runtime")
        try:
            await asyncio.wait({started, main}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            main.cancel()
            await asyncio.gather(main, return_exceptions=True)
            self._main = None
            raise
        if not started.done():
            self._main = None
            main.result()  # the error the start raised

    async def stop(self) -> None:
        """Stop in the reverse order of start and raise the error that stopped the app, if any
        (a failure stops the app by itself; ``stop`` then only waits and raises)."""
        main = self._main
        if main is None:
            return
        assert self._wake is not None
        self._wake.set()
        try:
            await asyncio.shield(main)
        finally:
            if main.done():
                self._main = None

    async def _run(self, started: asyncio.Future[None]) -> None:
        start_error: Exception | None = None
        async with asyncio.TaskGroup() as group:
            self._group = group
            stack = AsyncExitStack()
            try:
                await self._start_parts(stack)
                started.set_result(None)
                assert self._wake is not None
                await self._wake.wait()
            except Exception as exc:
                start_error = exc
            finally:
                # After a stop, a failure, a failed start or a cancellation alike.
                self.recovered = False
                try:
                    await stack.aclose()
                except Exception as exc:
                    if start_error is None:
                        self.fail(exc)
                finally:
                    self._group = None
                    self._cancel_loose()
        if start_error is not None:
            raise start_error
        self.raise_if_failed()

    def _cancel_loose(self) -> None:
        for task in list(self._loose):
            task.cancel()

    async def _start_parts(self, stack: AsyncExitStack) -> None:
        """Producers (stopped last), tables, agents, the web server, the consumer and
        recovery, then the timers and tasks, then the services."""
        app = self.app
        # Sensors first and stopped last: they hear of the first fetch and of the last commit.
        await app.sensors.start()
        stack.push_async_callback(app.sensors.stop)
        stack.push_async_callback(self._stop_producing)
        await stack.enter_async_context(sampling_loop_lag(app))
        if self._tables is not None:
            await self._tables.start()
            stack.push_async_callback(self._tables.stop)
        stack.push_async_callback(app.close_http_client)
        for agent in app.agents.values():
            await stack.enter_async_context(agent.running())
        # The web server answers while the tables recover (/health says 503 until then).
        await stack.enter_async_context(app.web.serving())
        # Stopped even if its start fails or is cancelled half-way: a consumer that joined
        # the group must leave it, or it holds its partitions as a member that never reads.
        stack.push_async_callback(self.conductor.stop)
        await self.conductor.start()
        await self.conductor.wait_settled()
        if self._tables is not None:
            await self._tables.wait_recovered()
        self.raise_if_failed()  # a recovery that failed: serve no partial table
        self.recovered = True
        if app.conf.reply_create_topic:
            await app.get_replies()
        await stack.enter_async_context(app.background.running())
        for factory in app.service_factories:
            await stack.enter_async_context(factory(app))

    async def _stop_producing(self) -> None:
        """Last: the consumer has left; the app's ``on_before_shutdown`` receivers may still
        send, then the producers flush."""
        await self.app.on_before_shutdown.send_supervised()
        await self.app.stop_replies()
        await self.producers.stop()


__all__ = ["Runtime"]
