"""``@app.command``: the app's own sub-commands of ``strm``, and :func:`call_command` to test them.

An app command is an ``async def``; its options are click's ``option``/``argument`` decorators
given to ``@app.command(...)``. It runs in a fresh event loop with the app configured but not
started: a command that needs the app running awaits ``app.start()`` (strm stops it afterwards).
When its first parameter is named ``self``, it receives an :class:`AppCommand`, with ``app``,
``say()`` and ``carp()``, as Faust's commands do. A command returning an int exits with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from strm.kernel.errors import ConfigurationError, StrmError

if TYPE_CHECKING:
    from strm.app import App

CommandFunction = Callable[..., Awaitable[Any]]


class Command:
    """Faust's base of commands: ways to print. ``AppCommand`` adds the app."""

    def say(self, text: object = "", *, err: bool = False) -> None:
        """Print to stdout (or stderr with ``err=True``)."""
        click.echo(str(text), err=err)

    def carp(self, text: object = "") -> None:
        """Print to stderr."""
        click.echo(str(text), err=True)


class AppCommand(Command):
    """What ``self`` is in ``async def cmd(self, ...)``: the app, and ways to print. A
    subclass given as ``@app.command(base=MyCommand)`` is what ``self`` is instead, so that
    commands share helpers, as Faust's ``base=`` does."""

    def __init__(self, app: App) -> None:
        self.app = app


def make_command(
    app: App,
    fun: CommandFunction,
    options: Sequence[Any],
    *,
    name: str | None = None,
    help: str | None = None,
    base: type[AppCommand] = AppCommand,
) -> click.Command:
    """The click command that runs ``fun`` for ``app``."""
    command_name = name or fun.__name__.replace("_", "-")
    if not inspect.iscoroutinefunction(fun):
        raise ConfigurationError(
            f"@app.command {command_name}: needs an 'async def' function, got {fun!r}"
        )
    parameters = list(inspect.signature(fun).parameters)
    wants_self = bool(parameters) and parameters[0] == "self"

    if not (isinstance(base, type) and issubclass(base, AppCommand)):
        raise ConfigurationError(
            f"@app.command {command_name}: base= must be a subclass of strm.AppCommand, "
            f"got {base!r}"
        )

    def callback(**values: Any) -> int:
        return _run(app, fun, values, wants_self=wants_self, base=base)

    decorated: Any = callback
    for option in reversed(options):
        if isinstance(option, click.Parameter):
            if not hasattr(decorated, "__click_params__"):
                decorated.__click_params__ = []
            decorated.__click_params__.append(option)
        elif callable(option):
            decorated = option(decorated)
        else:
            raise ConfigurationError(
                f"@app.command {command_name}: options must be click.option(...) or "
                f"click.argument(...) decorators, got {option!r}"
            )
    return click.command(command_name, help=help or inspect.getdoc(fun))(decorated)


def _run(
    app: App,
    fun: CommandFunction,
    values: dict[str, Any],
    *,
    wants_self: bool,
    base: type[AppCommand],
) -> int:
    from strm.cli.context import CliState
    from strm.worker import loop_factory

    state = click.get_current_context().find_object(CliState)
    factory = loop_factory(state.loop if state is not None else "asyncio")
    app.configure()

    async def body() -> Any:
        try:
            if wants_self:
                return await fun(base(app), **values)
            return await fun(**values)
        finally:
            if app.is_running:
                await app.stop()

    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(body())
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def call_command(app: App, name: str, args: Sequence[str] = ()) -> tuple[int, str, str]:
    """Run ``strm NAME ARGS`` for ``app`` in this process, as the command line would; returns
    ``(exit_code, stdout, stderr)``. For tests: call it from synchronous code, since the
    command runs its own event loop."""
    from strm.cli.loading import pre_parse
    from strm.cli.main import run

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "call_command() runs the command in an event loop of its own; call it from "
            "synchronous code, not from a coroutine"
        )
    argv = [name, *args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(argv, pre_parse(argv), app=app)
        except StrmError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = 2
    return code, out.getvalue(), err.getvalue()
