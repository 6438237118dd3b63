"""What the root ``strm`` command hands to sub-commands, including plugin commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from strm.kernel.errors import StrmError

if TYPE_CHECKING:
    from strm.app import App
    from strm.kernel.plugins.manager import StrmPluginManager


@dataclass
class CliState:
    plugins: StrmPluginManager
    app: App | None = None
    json: bool = False
    debug: bool = False
    loglevel: str = "WARN"
    logfile: str | None = None
    log_format: str = "text"
    #: The command line as given, so ``worker --processes N`` can start N copies of itself.
    argv: list[str] = field(default_factory=list)
    loop: str = "asyncio"
    plugin_options: dict[str, Any] = field(default_factory=dict)


def cli_state() -> CliState:
    state = click.get_current_context().find_object(CliState)
    if state is None:
        raise RuntimeError("no strm command is running")
    return state


def current_app() -> App:
    """The app given with ``-A``; a clear error when none was."""
    app = cli_state().app
    if app is None:
        command = click.get_current_context().command_path
        raise StrmError(f"'{command}' needs an app: strm -A yourproject.app ...")
    return app
