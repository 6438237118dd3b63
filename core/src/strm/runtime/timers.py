"""Background work an app runs while it runs: ``@app.task``, ``@app.timer``, ``@app.crontab``
and ``@app.service``.

Tasks, timers and crontabs start together, after the app's agents and consumer, and are cancelled
when it stops. Each takes no argument or the app. ``on_leader=True`` runs one only on the worker
that is the leader of the app's group at that moment (checked on each run of a timer or crontab).

A timer or crontab whose run raises logs the error with its name and runs again at its next time;
a task runs once, so its error crashes the app (:meth:`strm.App.crash`), which stops the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strm.kernel.errors import ConfigurationError
from strm.runtime.cron import CronSchedule

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike, ServiceFactory

logger = logging.getLogger("strm.timers")

JobFunction = Callable[..., Awaitable[Any]]

#: Longest sleep of a crontab before it looks at the wall clock again, so that a clock set
#: forwards or backwards (or a suspended machine) delays a run by at most this long.
CRON_MAX_SLEEP = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _is_async(fun: Callable[..., Any]) -> bool:
    """Whether calling ``fun`` gives a coroutine: an ``async def`` function, a partial or bound
    method of one, or an object whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(fun):
        return True
    call = getattr(type(fun), "__call__", None)  # noqa: B004 (the class's method itself)
    return not inspect.isroutine(fun) and inspect.iscoroutinefunction(call)


def _takes_app(fun: JobFunction, what: str) -> bool:
    """Whether ``fun`` is called with the app: it takes one positional argument, or none."""
    if not _is_async(fun):
        raise ConfigurationError(f"{what} needs an 'async def' function, got {fun!r}")
    positional = [
        p
        for p in inspect.signature(fun).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is p.empty]
    if len(required) > 1:
        raise ConfigurationError(
            f"{what} takes {len(required)} arguments; it may take none, or the app"
        )
    return bool(positional)


def default_name(fun: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, of the function under a ``functools.partial`` or a
    bound method, or of the class of a callable object."""
    while isinstance(fun, functools.partial):
        fun = fun.func
    target = fun.__func__ if inspect.ismethod(fun) else fun
    if not hasattr(target, "__qualname__"):
        target = type(target)
    return f"{target.__module__}.{target.__qualname__}"


class Job:
    """One decorated coroutine function and how the app runs it."""

    kind = "task"

    def __init__(
        self, app: AppLike, fun: JobFunction, *, name: str | None, on_leader: bool
    ) -> None:
        self.app = app
        self.fun = fun
        self.name = name or default_name(fun)
        self.on_leader = on_leader
        self._takes_app = _takes_app(fun, f"@app.{self.kind} {self.name}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def may_run(self) -> bool:
        """False when the job is for the leader only and this worker is not the leader."""
        if self.on_leader and not self.app.is_leader():
            logger.debug("%s %s skipped: this worker is not the leader", self.kind, self.name)
            return False
        return True

    async def call(self) -> None:
        await (self.fun(self.app) if self._takes_app else self.fun())

    async def call_logged(self) -> None:
        """One run of a repeating job: an error is logged and the job goes on."""
        try:
            await self.call()
        except Exception:
            logger.exception("%s %s raised; it runs again at its next time", self.kind, self.name)

    async def run(self) -> None:
        if self.may_run():
            await self.call()


class Timer(Job):
    """Runs every ``interval`` seconds, the first time one interval after the app started.

    Runs are scheduled at whole multiples of the interval from the start, on the event loop's
    clock, so delays never add up; a run that takes longer than the interval skips the ticks
    it overran, with a warning.
    """

    kind = "timer"

    def __init__(
        self,
        app: AppLike,
        fun: JobFunction,
        *,
        interval: float | timedelta,
        name: str | None,
        on_leader: bool,
    ) -> None:
        super().__init__(app, fun, name=name, on_leader=on_leader)
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise ConfigurationError(
                f"@app.timer {self.name}: the interval must be a positive number of seconds or "
                f"a timedelta, got {interval!r}"
            )
        self.interval = float(seconds)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        origin = loop.time()
        tick = 1
        while True:
            await asyncio.sleep(origin + tick * interval - loop.time())
            if self.may_run():
                await self.call_logged()
            reached = int((loop.time() - origin) // interval)
            if reached > tick:
                logger.warning(
                    "timer %s: a run took longer than its %g s interval; skipped %d tick(s)",
                    self.name,
                    interval,
                    reached - tick,
                )
            tick = max(tick, reached) + 1


class Crontab(Job):
    """Runs at the times of a cron expression, in ``timezone`` (default: the ``timezone``
    setting). See :mod:`strm.runtime.cron` for the syntax and what happens on DST changes."""

    kind = "crontab"

    def __init__(
        self,
        app: AppLike,
        fun: JobFunction,
        *,
        cron_format: str,
        timezone: tzinfo | str | None,
        name: str | None,
        on_leader: bool,
    ) -> None:
        super().__init__(app, fun, name=name, on_leader=on_leader)
        self.schedule = CronSchedule(cron_format)
        self._timezone = _timezone(timezone, self.name)
        #: The wall clock (aware datetimes); tests replace it.
        self.clock: Callable[[], datetime] = utc_now

    @property
    def timezone(self) -> tzinfo:
        """The timezone given to the decorator, else the app's ``timezone`` setting."""
        if self._timezone is not None:
            return self._timezone
        zone: tzinfo = self.app.conf.timezone
        return zone

    def next_time(self, after: datetime | None = None) -> datetime:
        """When the job next runs after ``after`` (default: now), in its timezone."""
        return self.schedule.next_after(self.clock() if after is None else after, self.timezone)

    async def run(self) -> None:
        zone = self.timezone
        last = self.clock()
        while True:
            due = self.schedule.next_after(last, zone).astimezone(UTC)
            await self._sleep_until(due)
            if self.may_run():
                await self.call_logged()
            # After a long run, the times it overran are not caught up.
            last = max(due, self.clock())

    async def _sleep_until(self, due: datetime) -> None:
        while (remaining := (due - self.clock()).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, CRON_MAX_SLEEP))


def _timezone(value: tzinfo | str | None, name: str) -> tzinfo | None:
    if value is None or isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(value)
    raise ConfigurationError(
        f"@app.crontab {name}: timezone must be a tzinfo or a name such as 'Europe/Oslo', "
        f"got {value!r}"
    )


class BackgroundTasks:
    """The app's tasks, timers and crontabs, and their asyncio tasks while the app runs."""

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.jobs: list[Job] = []
        self._running: list[asyncio.Task[BaseException | None]] | None = None

    def add(self, job: Job) -> Job:
        if self._running is not None:
            raise RuntimeError(f"cannot add {job.kind} {job.name} to a running app")
        if any(other.name == job.name for other in self.jobs):
            raise ConfigurationError(
                f"two tasks, timers or crontabs are named {job.name!r}; give one a name="
            )
        if job.on_leader:
            self.app.conductor.needs_leader = True
        self.jobs.append(job)
        return job

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start every job; on exit, cancel them and wait until they are done."""
        self._running = [
            self.app.runtime.spawn(self._run(job), name=f"{job.kind} {job.name}")
            for job in self.jobs
        ]
        try:
            yield
        finally:
            tasks, self._running = self._running, None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job) -> None:
        """A task's error stops the app (strm.runtime logs it); a timer's runs never raise."""
        await job.run()


# -- @app.service ---------------------------------------------------------------------------------


def service_factory(obj: Any) -> ServiceFactory:
    """What ``@app.service`` accepts, as an ``app.add_service`` factory: a :class:`strm.Service`
    (mode's ``Service``) class or instance, a factory ``f(app)`` of async context managers, a
    class whose instances are async context managers, or a class with ``async def start(self)``
    and ``async def stop(self)``. A class is instantiated with the app when its constructor takes
    an argument (a ``Service`` class: when it requires one), else with none."""
    # Imported here: strm.services is only needed by apps that declare services.
    from strm.runtime.app_services import instantiate, run_with_app
    from strm.services import Service, ServiceT

    if inspect.isclass(obj) and issubclass(obj, Service):
        service_class = obj
        return lambda app: run_with_app(app, instantiate(service_class, app))
    if not inspect.isclass(obj) and isinstance(obj, ServiceT):
        service = obj
        return lambda app: run_with_app(app, service)
    if inspect.isclass(obj):
        if hasattr(obj, "__aenter__") and hasattr(obj, "__aexit__"):
            return lambda app: _instantiate(obj, app)
        start, stop = getattr(obj, "start", None), getattr(obj, "stop", None)
        if inspect.iscoroutinefunction(start) and inspect.iscoroutinefunction(stop):
            return _start_stop_service(obj)
        raise ConfigurationError(
            f"@app.service {obj.__qualname__}: a service class needs 'async def start(self)' "
            "and 'async def stop(self)', or to be an async context manager"
        )
    if callable(obj):
        factory: ServiceFactory = obj
        return factory
    raise ConfigurationError(
        "@app.service takes a class or a factory of async context managers, or a Service, "
        f"got {obj!r}"
    )


def _instantiate(cls: type, app: AppLike) -> Any:
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # no signature to read: a class without __init__
        return cls()
    takes_app = any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters
    )
    return cls(app) if takes_app else cls()


def _start_stop_service(cls: type) -> ServiceFactory:
    @contextlib.asynccontextmanager
    async def run(app: AppLike) -> AsyncIterator[Any]:
        service = _instantiate(cls, app)
        await service.start()
        try:
            yield service
        finally:
            await service.stop()

    return run
