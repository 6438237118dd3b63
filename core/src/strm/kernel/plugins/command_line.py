"""What the ``strm`` command line tells the plugin managers it creates, read before parsing.

``--plugin`` and ``--debug`` must reach the plugin manager of an app that the ``-A`` module builds
(and may configure) while it is imported, before the command line itself is parsed. The command
line sets them here for the duration of one run, as pytest's pre-parse hands ``-p`` to its plugin
manager, and :class:`strm.App` passes them to the manager it creates. A context variable, not the
environment: nothing leaks into other threads, other apps of the process after the run, or child
processes (which get ``--plugin`` from their own command line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandLinePlugins:
    """``--plugin`` values in order, and whether ``--debug`` asks for hook tracing."""

    plugins: tuple[str, ...] = ()
    trace: bool = False


#: What a plugin manager created outside a ``strm`` command gets.
NOTHING_GIVEN = CommandLinePlugins()

_CURRENT: ContextVar[CommandLinePlugins | None] = ContextVar(
    "strm_command_line_plugins", default=None
)


def current() -> CommandLinePlugins:
    """What the running ``strm`` command was given; empty outside a command."""
    return _CURRENT.get() or NOTHING_GIVEN


@contextlib.contextmanager
def given(plugins: Sequence[str], *, trace: bool = False) -> Iterator[CommandLinePlugins]:
    """Hand ``plugins`` and ``trace`` to every plugin manager created inside the block."""
    selection = CommandLinePlugins(tuple(plugins), trace)
    token = _CURRENT.set(selection)
    try:
        yield selection
    finally:
        _CURRENT.reset(token)
