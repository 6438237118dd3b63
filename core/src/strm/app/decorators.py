"""An app's tasks, timers, services and commands, and the discovery of the modules that
define them: ``@app.task``, ``@app.timer``, ``@app.crontab``, ``@app.service``,
``@app.command``, ``app.main()`` (:class:`strm.app.App`)."""

from __future__ import annotations

from collections.abc import (
    Awaitable,
    Callable,
    Sequence,
)
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from strm.app import App


def task(
    self: App,
    fun: Callable[..., Awaitable[Any]] | None = None,
    *,
    on_leader: bool = False,
    traced: bool = True,
    name: str | None = None,
) -> Any:
    """``@app.task`` or ``@app.task(on_leader=False, name=None)``: run ``async def f()`` or
    ``async def f(app)`` once, after the agents and the consumer have started; cancelled
    when the app stops. ``on_leader`` runs it only if this worker is the leader then.

    Any callable giving a coroutine works (a ``functools.partial``, a bound method).
    ``traced`` is Faust's: a span per run where a tracer is configured; strm has no tracer
    yet, so either value runs the task untraced, as Faust does without one."""
    from strm.runtime.timers import Job

    def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        self.background.add(Job(self, f, name=name, on_leader=on_leader))
        return f

    return decorate if fun is None else decorate(fun)


def timer(
    self: App,
    interval: float | timedelta,
    on_leader: bool = False,
    traced: bool = True,
    name: str | None = None,
    max_drift_correction: float = 0.1,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """``@app.timer(10.0)``: run ``async def f()`` or ``f(app)`` every ``interval`` seconds
    (a number or a timedelta), first one interval after start, without drift; see
    :class:`strm.runtime.timers.Timer`. Runs are scheduled on whole multiples of the interval,
    so there is no drift for Faust's ``max_drift_correction`` to correct; ``traced`` as
    for :meth:`task`."""
    from strm.runtime.timers import Timer

    def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        self.background.add(Timer(self, f, interval=interval, name=name, on_leader=on_leader))
        return f

    return decorate


def crontab(
    self: App,
    cron_format: str,
    *,
    timezone: Any = None,
    on_leader: bool = False,
    traced: bool = True,
    name: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """``@app.crontab('*/5 * * * *')``: run at the times of a cron expression, on the wall
    clock of ``timezone`` (a tzinfo or a name; default: the ``timezone`` setting). The
    syntax and the handling of DST changes are described in :mod:`strm.runtime.cron`."""
    from strm.runtime.timers import Crontab

    def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        self.background.add(
            Crontab(
                self,
                f,
                cron_format=cron_format,
                timezone=timezone,
                name=name,
                on_leader=on_leader,
            )
        )
        return f

    return decorate


def service(self: App, obj: Any) -> Any:
    """``@app.service``: run a service while the app runs, started after the tasks and
    stopped in reverse order. A class with ``async def start(self)``/``stop(self)``, an
    async context manager class, or a factory ``f(app)`` as :meth:`add_service` takes."""
    from strm.runtime.timers import service_factory

    self.add_service(service_factory(obj))
    return obj


def command(
    self: App,
    *options: Any,
    base: type | None = None,
    name: str | None = None,
    help: str | None = None,
) -> Any:
    """``@app.command(click.option('--n', type=int))``: make ``async def cmd(self, n)`` (or
    ``cmd(n)``) the command ``strm -A proj.app cmd --n 3``; see
    :mod:`strm.cli.app_commands`. The name defaults to the function's, ``_`` as ``-``;
    ``base`` is the :class:`strm.AppCommand` subclass ``self`` is an instance of."""
    import inspect

    from strm.cli.app_commands import AppCommand, make_command

    def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        command = make_command(self, f, options, name=name, help=help, base=base or AppCommand)
        assert command.name is not None  # make_command always names it
        if command.name in self.commands:
            raise ConfigurationError(f"two app commands are named {command.name!r}")
        self.commands[command.name] = command
        return f

    if len(options) == 1 and inspect.iscoroutinefunction(options[0]):
        bare, options = options[0], ()  # @app.command without parentheses
        return decorate(bare)
    return decorate


def main(self: App, argv: Sequence[str] | None = None) -> None:
    """Run the ``strm`` command line for this app: ``python myapp.py worker``.

    When no ``origin`` is set, it becomes the module calling ``main()``: its import name
    under ``python -m proj.app``, its file name (``app``) under ``python proj/app.py``.
    """
    import sys

    from strm.cli.main import main
    from strm.runtime.discovery import main_origin

    if self._conf is not None:
        has_origin = self._conf.origin is not None
    else:
        has_origin = "origin" in self._overrides or "origin" in self._given
    if not has_origin:
        origin = main_origin(sys._getframe(1).f_globals.get("__name__", "__main__"))
        if origin is not None:
            self.override_settings(origin=origin)
    main(argv, app=self)


def discover(self: App, *extra_modules: str) -> list[str]:
    """Import the packages the ``autodiscover`` setting names and ``extra_modules``, each
    with every module in it, so their decorators register; returns the modules imported.
    See :mod:`strm.runtime.discovery`."""
    from strm.runtime.discovery import import_packages, packages_to_scan

    conf = self.conf
    packages = packages_to_scan(conf.autodiscover, conf.origin, self.environ)
    return import_packages([*packages, *extra_modules])


def autodiscover(self: App) -> list[str]:
    """Run the discovery the ``autodiscover`` setting asks for, once: the worker does it as
    the app starts, before its agents, and the ``strm`` command before reading its
    commands."""
    if self._discovered or not self._wants_autodiscovery():
        return []
    imported = self.discover()
    self._discovered = True
    return imported


def wants_autodiscovery(self: App) -> bool:
    """Whether ``autodiscover`` is set, without configuring the app only to find out."""
    if self._conf is not None:
        return bool(self._conf.autodiscover)
    from strm.kernel.settings.types import Autodiscover

    value = self._overrides.get("autodiscover", self._given.get("autodiscover", False))
    try:
        return bool(Autodiscover().coerce(value))
    except ValueError:
        return True  # configuring reports the bad value
