"""Services shaped like mode's ``Service``, the class Faust apps subclass for their helpers.

Faust code defines long-lived helpers as mode services (``@app.service class X(faust.Service)``)
with life-cycle callbacks, background tasks and timers. strm runs such a class unchanged: the same
callbacks, in the same order, with the same helpers (``self.log``, ``self.sleep``,
``self.should_stop``, ``add_dependency``...).

Order of the callbacks, as in mode:

- ``start()``: ``on_first_start`` (first start only), ``on_start``, the ``@Service.task`` and
  ``@Service.timer`` tasks begin, the dependencies start (in the order they were added), then
  ``on_started``;
- ``stop()``: ``on_stop``, the dependencies stop (last added first), the tasks are cancelled, the
  contexts of ``add_context``/``add_async_context`` exit, then ``on_shutdown``;
- ``restart()``: ``stop()``, ``on_restart``, ``start()``.

A task that raises crashes the service: the error is logged, the whole tree of services it belongs
to is marked crashed (``should_stop`` turns true, ``wait_until_stopped()`` returns), and a service
run by an app crashes the app (:meth:`strm.App.crash`), which stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, AsyncExitStack
from datetime import UTC, datetime, timedelta, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from strm.kernel.errors import ConfigurationError
from strm.runtime.cron import CronSchedule
from strm.runtime.service_logging import CompositeLogger, level_number
from strm.runtime.service_types import (
    Seconds,
    ServiceT,
    ServiceTask,
    WaitResult,
    WaitResults,
    qualname,
    want_seconds,
)

if TYPE_CHECKING:
    pass

# -- the service ---------------------------------------------------------------------------------


class Service:
    """A part of a program that starts, runs background tasks, and stops (see the module)."""

    #: The logger of :attr:`log`; a subclass that sets none gets one named after its module.
    logger: ClassVar[logging.Logger] = logging.getLogger(__name__)
    _logger_is_default: ClassVar[bool] = True

    #: Level of the "Starting..."/"Stopping..." messages; ``"debug"`` makes them quieter.
    mundane_level: ClassVar[int | str] = "info"

    #: When true, :meth:`stop` waits (up to :attr:`shutdown_timeout` seconds) until something
    #: calls :meth:`set_shutdown` before it cancels the tasks.
    wait_for_shutdown: ClassVar[bool] = False
    shutdown_timeout: ClassVar[float] = 60.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "logger" in vars(cls):
            cls._logger_is_default = False
        elif cls._logger_is_default:
            cls.logger = logging.getLogger(cls.__module__)

    def __init__(
        self, *, beacon: Any = None, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        if beacon is not None:
            raise ConfigurationError(
                f"{type(self).__name__}(beacon=...): strm services have no beacon yet; make one "
                "service a dependency of another with parent.add_dependency(child)"
            )
        self._loop = loop
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._shutdown = asyncio.Event()
        self._crashed = asyncio.Event()
        #: The error that crashed the service, if one did.
        self.crash_reason: BaseException | None = None
        #: How many times the service was restarted (also after each ``async with``).
        self.restart_count = 0
        self._parent: Service | None = None
        self._children: list[ServiceT] = []
        self._futures: set[asyncio.Task[None]] = set()
        #: Called with the error when this service, at the root of its tree, crashes.
        self._on_crash: Callable[[BaseException], None] | None = None
        self.exit_stack = contextlib.ExitStack()
        self.async_exit_stack = AsyncExitStack()
        self._mundane_level = level_number(self.mundane_level)
        self.log = CompositeLogger(type(self).logger, formatter=self._format_log)
        self.on_init()
        self.__post_init__()

    # -- what subclasses define ------------------------------------------------------------------

    def __post_init__(self) -> None:
        """Called at the end of ``__init__``: set up what the service needs, without the loop."""

    def on_init(self) -> None:
        """Called at the end of ``__init__`` before :meth:`__post_init__` (mode's older name)."""

    def on_init_dependencies(self) -> Iterable[ServiceT]:
        """Services to add as dependencies when the service first starts."""
        return []

    async def on_first_start(self) -> None:
        """Called on the first start only, before :meth:`on_start`."""

    async def on_start(self) -> None:
        """Called on every start, before the tasks and the dependencies start."""

    async def on_started(self) -> None:
        """Called when the tasks run and the dependencies have started."""

    async def on_stop(self) -> None:
        """Called first on stop, before the dependencies stop and the tasks are cancelled."""

    async def on_shutdown(self) -> None:
        """Called last on stop, when the tasks and the dependencies have stopped."""

    async def on_restart(self) -> None:
        """Called by :meth:`restart` between the stop and the start."""

    # -- decorators ------------------------------------------------------------------------------

    @classmethod
    def task(cls, fun: Callable[[Any], Awaitable[None]]) -> ServiceTask:
        """``@Service.task``: run this ``async def method(self)`` while the service runs."""
        return ServiceTask(fun)

    @classmethod
    def timer(
        cls, interval: Seconds, *, exec_first: bool = False, name: str | None = None
    ) -> Callable[[Callable[[Any], Awaitable[None]]], ServiceTask]:
        """``@Service.timer(seconds)``: run the method every ``interval`` seconds (the first time
        after one interval, or at once too with ``exec_first=True``). An error crashes the
        service, as any task's."""
        seconds = want_seconds(interval)
        if seconds <= 0:
            raise ConfigurationError(f"@Service.timer needs a positive interval, got {interval!r}")

        def decorate(fun: Callable[[Any], Awaitable[None]]) -> ServiceTask:
            timer_name = name or qualname(fun)

            @functools.wraps(fun)
            async def repeat(self: Service) -> None:
                if exec_first:
                    await fun(self)
                async for _ in self.itertimer(seconds, name=timer_name):
                    await fun(self)

            return cls.task(repeat)

        return decorate

    @classmethod
    def crontab(
        cls, cron_format: str, *, timezone: tzinfo | None = None
    ) -> Callable[[Callable[[Any], Awaitable[None]]], ServiceTask]:
        """``@Service.crontab('30 18 * * *')``: run the method at the times of a cron expression,
        read in ``timezone`` (default UTC)."""
        schedule = CronSchedule(cron_format)
        zone = timezone or UTC

        def decorate(fun: Callable[[Any], Awaitable[None]]) -> ServiceTask:
            @functools.wraps(fun)
            async def run(self: Service) -> None:
                last = datetime.now(UTC)
                while not self.should_stop:
                    due = schedule.next_after(last, zone).astimezone(UTC)
                    while not self.should_stop and (wait := due - datetime.now(UTC)) > _ZERO:
                        # In steps, so a wall clock set forwards or backwards is seen soon.
                        await self.sleep(min(wait.total_seconds(), 60.0))
                    if self.should_stop:
                        return
                    await fun(self)
                    last = max(due, datetime.now(UTC))

            return cls.task(run)

        return decorate

    @classmethod
    def from_awaitable(cls, coro: Awaitable[Any], *, name: str | None = None) -> Service:
        """A service whose start awaits ``coro`` to its end, and whose stop cancels it."""
        return _AwaitableService(coro, name=name)

    # -- names and state -------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The service's name in messages: its class name."""
        return type(self).__name__

    @property
    def shortlabel(self) -> str:
        """The name in the prefix of :attr:`log`'s messages."""
        return self.label

    @property
    def started(self) -> bool:
        return self._started.is_set()

    @property
    def crashed(self) -> bool:
        return self._crashed.is_set()

    @property
    def should_stop(self) -> bool:
        """True once the service is stopping or has crashed: loops of its tasks check it."""
        return self._stopped.is_set() or self._crashed.is_set()

    @property
    def state(self) -> str:
        """``init``, ``running``, ``stopping``, ``shutdown`` (after :meth:`set_shutdown`) or
        ``crashed``, as mode names them."""
        if self._crashed.is_set():
            return "crashed"
        if not self._started.is_set():
            return "init"
        if not self._stopped.is_set():
            return "running"
        return "shutdown" if self._shutdown.is_set() else "stopping"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop given to the constructor, else the running one."""
        return self._loop if self._loop is not None else asyncio.get_running_loop()

    @loop.setter
    def loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def _depth(self) -> int:
        depth, parent = 1, self._parent
        while parent is not None:
            depth, parent = depth + 1, parent._parent
        return depth

    def _format_log(self, severity: int, message: str, *args: Any, **kwargs: Any) -> str:
        return f"[^{'-' * (self._depth - 1)}{self.shortlabel}]: {message}"

    def _log_mundane(self, message: str, *args: Any) -> None:
        self.log.log(self._mundane_level, message, *args, stacklevel=3)

    def __repr__(self) -> str:
        return f"<{self.label}: {self.state}>"

    # -- dependencies, tasks and contexts --------------------------------------------------------

    def add_dependency(self, service: ServiceT) -> ServiceT:
        """Start ``service`` with this one (after ``on_start``) and stop it with this one (after
        ``on_stop``). Its crash crashes this service too."""
        if not isinstance(service, ServiceT):
            raise TypeError(f"{self.label}: a dependency must be a service, got {service!r}")
        if isinstance(service, Service):
            service._parent = self
        self._children.append(service)
        return service

    async def add_runtime_dependency(self, service: ServiceT) -> ServiceT:
        """As :meth:`add_dependency`, and start ``service`` now if this service has started."""
        self.add_dependency(service)
        if self.started:
            await service.maybe_start()
        return service

    async def remove_dependency(self, service: ServiceT) -> ServiceT:
        """Stop ``service`` and no longer start or stop it with this one."""
        await service.stop()
        self._children.remove(service)
        if isinstance(service, Service) and service._parent is self:
            service._parent = None
        return service

    def add_future(self, coro: Awaitable[Any]) -> asyncio.Task[None]:
        """Run ``coro`` as a task of the service: cancelled at stop, and its error crashes the
        service."""
        task = asyncio.ensure_future(self._execute_task(coro))
        task.set_name(f"{self.label}: {coro!r}")
        self._futures.add(task)
        task.add_done_callback(self._futures.discard)
        if inspect.iscoroutine(coro):
            # A task cancelled before its first step never started ``coro``: close it quietly.
            task.add_done_callback(lambda _: coro.close())
        return task

    async def _execute_task(self, coro: Awaitable[Any]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            if not self.should_stop:
                self._log_mundane("Terminating cancelled task: %r", coro)
            raise
        except Exception as exc:
            await self.crash(exc)

    def add_context(self, context: AbstractContextManager[Any]) -> Any:
        """Enter ``context`` now and exit it when the service stops."""
        if isinstance(context, AbstractAsyncContextManager):
            raise TypeError("use 'await self.add_async_context(context)' for an async context")
        if not isinstance(context, AbstractContextManager):
            raise TypeError(f"not a context manager: {context!r}")
        return self.exit_stack.enter_context(context)

    async def add_async_context(self, context: AbstractAsyncContextManager[Any]) -> Any:
        """Enter the async ``context`` now and exit it when the service stops."""
        if isinstance(context, AbstractAsyncContextManager):
            return await self.async_exit_stack.enter_async_context(context)
        if isinstance(context, AbstractContextManager):
            raise TypeError("use 'self.add_context(context)' for a context that is not async")
        raise TypeError(f"not an async context manager: {context!r}")

    def _service_tasks(self) -> Iterator[ServiceTask]:
        """The ``@Service.task`` methods of the class and its bases, bases first; a method
        overridden in a subclass counts once."""
        names: dict[str, None] = {}
        for klass in reversed(type(self).__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, ServiceTask):
                    names[name] = None
        for name in names:
            task = getattr(self, name)
            if isinstance(task, ServiceTask):
                yield task

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the service (see the module for the order). A start that raises stops what
        had started, as :meth:`stop` does, before the error propagates."""
        if self._started.is_set():
            raise RuntimeError(f"{self.label} has already started; use maybe_start()")
        self._started.set()
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        if not self.restart_count:
            for dependency in self.on_init_dependencies():
                self.add_dependency(dependency)
            await self.on_first_start()
        if self.should_stop:
            return
        self._log_mundane("Starting...")
        await self.on_start()
        if self.should_stop:
            return
        for task in self._service_tasks():
            self.add_future(task(self))
        for child in self._children:
            await child.maybe_start()
            if self.should_stop:
                return
        self.log.debug("Started.")
        await self.on_started()

    async def maybe_start(self) -> bool:
        """Start the service unless it has started; True if this call started it."""
        if self._started.is_set():
            return False
        await self.start()
        return True

    async def stop(self) -> None:
        """Stop the service (see the module for the order); stopping it again does nothing."""
        if self._stopped.is_set():
            return
        self._log_mundane("Stopping...")
        self._stopped.set()
        await self.on_stop()
        await self._stop_children()
        if self.wait_for_shutdown:
            self.log.debug("Waiting for shutdown")
            await asyncio.wait_for(self._shutdown.wait(), self.shutdown_timeout)
        await self._stop_futures()
        self.exit_stack.close()
        await self.async_exit_stack.aclose()
        await self.on_shutdown()
        self.log.debug("Stopped.")

    async def _stop_children(self) -> None:
        for child in reversed(self._children):
            try:
                await child.stop()
            except Exception as exc:
                self.log.exception("Error while stopping %r: %r", child, exc)

    async def _stop_futures(self) -> None:
        # A task that stops its own service does not wait for itself.
        current = asyncio.current_task()
        tasks = [task for task in self._futures if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def restart(self) -> None:
        """Stop, call :meth:`on_restart`, and start again."""
        await self.stop()
        self.service_reset()
        await self.on_restart()
        await self.start()

    def service_reset(self) -> None:
        """Make a stopped service (and its dependencies) startable again."""
        self.restart_count += 1
        for event in (self._started, self._stopped, self._shutdown, self._crashed):
            event.clear()
        self.crash_reason = None
        for child in self._children:
            child.service_reset()

    def set_shutdown(self) -> None:
        """Let a :meth:`stop` that waits for it (:attr:`wait_for_shutdown`) go on."""
        self._shutdown.set()

    async def crash(self, reason: BaseException) -> None:
        """Log ``reason`` and mark the service's whole tree crashed; the tree's root, run by an
        app, crashes the app."""
        self.log.error("Crashed reason=%r", reason, exc_info=reason)
        if self._crashed.is_set():
            return
        root = self
        while root._parent is not None:
            root = root._parent
        root._mark_crashed(reason)
        if root._on_crash is not None:
            root._on_crash(reason)

    def _mark_crashed(self, reason: BaseException) -> None:
        self.crash_reason = reason
        self._crashed.set()
        for child in self._children:
            if isinstance(child, Service):
                child._mark_crashed(reason)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        try:
            await self.stop()
        finally:
            self.service_reset()
        return None

    # -- waiting ---------------------------------------------------------------------------------

    async def sleep(self, seconds: Seconds) -> None:
        """Sleep ``seconds``, or less if the service stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=want_seconds(seconds))

    async def itertimer(self, interval: Seconds, *, name: str = "") -> AsyncIterator[float]:
        """Yield every ``interval`` seconds (the first time after one interval) until the service
        stops; yields the seconds it slept. Ticks are whole multiples of the interval from the
        start, so delays do not add up; ticks missed by a slow body are skipped, with a warning."""
        seconds = want_seconds(interval)
        loop = asyncio.get_running_loop()
        origin = previous = loop.time()
        tick = 1
        while not self.should_stop:
            await self.sleep(max(0.0, origin + tick * seconds - loop.time()))
            if self.should_stop:
                return
            now = loop.time()
            yield now - previous
            previous = loop.time()
            reached = int((previous - origin) // seconds)
            if reached > tick:
                self.log.warning(
                    "timer %s: a run took longer than its %g s interval; skipped %d tick(s)",
                    name or "?",
                    seconds,
                    reached - tick,
                )
            tick = max(tick, reached) + 1

    async def wait_until_stopped(self) -> None:
        """Wait until the service is stopping or has crashed."""
        await self.wait()

    async def wait(
        self, *coros: Awaitable[Any] | asyncio.Event, timeout: Seconds | None = None
    ) -> WaitResult:
        """Wait for one awaitable (or event), or with none for the service to stop."""
        if len(coros) > 1:
            raise TypeError("wait() takes one awaitable; use wait_first() for several")
        results = await self.wait_first(*coros, timeout=timeout)
        if results.stopped or not results.results:
            return WaitResult(None, True)
        return WaitResult(results.results[0], False)

    async def wait_for_stopped(
        self, *coros: Awaitable[Any] | asyncio.Event, timeout: Seconds | None = None
    ) -> bool:
        """Whether the service stopped before ``coros`` finished."""
        return (await self.wait(*coros, timeout=timeout)).stopped

    async def wait_first(
        self, *coros: Awaitable[Any] | asyncio.Event, timeout: Seconds | None = None
    ) -> WaitResults:
        """Wait until one of ``coros`` finishes, the service stops, or ``timeout`` passes (then
        ``stopped`` is false and nothing is done)."""
        futures = {
            coro: asyncio.ensure_future(coro.wait() if isinstance(coro, asyncio.Event) else coro)
            for coro in coros
        }
        stop_waiters = [
            asyncio.ensure_future(self._stopped.wait()),
            asyncio.ensure_future(self._crashed.wait()),
        ]
        try:
            await asyncio.wait(
                [*futures.values(), *stop_waiters],
                return_when=asyncio.FIRST_COMPLETED,
                timeout=None if timeout is None else want_seconds(timeout),
            )
            if self.should_stop:
                return WaitResults([], [], True)
            done = [coro for coro, future in futures.items() if future.done()]
            return WaitResults(done, [futures[coro].result() for coro in done], False)
        finally:
            for future in [*futures.values(), *stop_waiters]:
                future.cancel()


_ZERO = timedelta(0)

#: mode's module-level names of the decorators.
task = Service.task
timer = Service.timer
crontab = Service.crontab


class _AwaitableService(Service):
    """:meth:`Service.from_awaitable`: the awaitable runs in ``on_start``."""

    mundane_level = "debug"

    def __init__(self, coro: Awaitable[Any], *, name: str | None = None) -> None:
        self.coro = coro
        self.name = name
        self._future: asyncio.Future[Any] | None = None
        super().__init__()

    @property
    def label(self) -> str:
        return self.name or repr(self.coro)

    async def on_start(self) -> None:
        self._future = asyncio.ensure_future(self.coro)
        try:
            await self._future
        except asyncio.CancelledError:
            if not self.should_stop:
                raise

    async def on_stop(self) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.cancel()


__all__ = [
    "CompositeLogger",
    "Seconds",
    "Service",
    "ServiceT",
    "ServiceTask",
    "WaitResult",
    "WaitResults",
    "crontab",
    "level_number",
    "task",
    "timer",
    "want_seconds",
]
