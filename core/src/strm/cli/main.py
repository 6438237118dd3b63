"""The ``strm`` command: global options, core commands, and what plugins add.

``-A``, ``--plugin`` and ``--debug`` are read before the parser is built, so a plugin named on
the command line can add commands and options. Errors strm raises on purpose are shown as one
line with exit code 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from strm.app import App
from strm.builtins.plugins import BUILTIN_PLUGINS, ESSENTIAL_PLUGINS
from strm.cli.commands import agents_command, plugins_command, tables_command, worker_command
from strm.cli.completion_command import COMPLETE_VAR, completion_command
from strm.cli.context import CliState
from strm.cli.levels import LEVELS, LOGLEVELS
from strm.cli.loading import EarlyOptions, load_app, pre_parse
from strm.cli.models_command import model_command, models_command
from strm.cli.new_plugin import new_plugin_command
from strm.cli.reset_command import clean_versions_command, reset_command
from strm.cli.send_command import send_command
from strm.cli.settings_command import settings_command
from strm.cli.version import VERSION_OPTION
from strm.kernel.errors import StrmError
from strm.kernel.plugins import command_line
from strm.kernel.plugins.manager import StrmPluginManager
from strm.kernel.settings.catalogue import KERNEL_SETTINGS
from strm.runtime.worker_logging import LOG_FORMATS
from strm.worker import LOOPS


def main(argv: Sequence[str] | None = None, app: App | None = None) -> None:
    """Console-script entry point; ``app`` preselects the app (``app.main()``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    early = pre_parse(args)
    if COMPLETE_VAR in os.environ:  # completing: -A and --plugin are on the line being typed
        early = pre_parse(os.environ.get("COMP_WORDS", "").split()[1:])
    try:
        code = run(args, early, app=app)
    except StrmError as exc:
        if early.debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        code = 2
    sys.exit(code)


def run(args: Sequence[str], early: EarlyOptions, app: App | None = None) -> int:
    """Build the command line for this app and its plugins and run it; returns the exit code.

    ``app`` preselects the app (``app.main()``, ``call_command``); ``-A`` is then ignored.
    """
    # The -A module may build and configure its app while it is imported: --plugin and --debug
    # must reach that app's plugin manager, so they are handed over before anything is loaded.
    with command_line.given(early.plugins, trace=early.debug):
        return _run(args, early, app)


def _run(args: Sequence[str], early: EarlyOptions, app: App | None = None) -> int:
    if app is None and early.app:
        app = load_app(early.app)
    if app is not None:
        app.autodiscover()  # modules of the project may define commands
        plugins = app.plugins
        _check_plugins_reached(plugins, early.plugins)
    else:
        plugins = StrmPluginManager(
            command_line=early.plugins,
            trace=early.debug,
            builtins=BUILTIN_PLUGINS,
            essential=ESSENTIAL_PLUGINS,
        )
    group = make_cli(plugins, app)
    state = CliState(plugins=plugins, app=app, argv=list(args))
    try:
        result = group.main(args=list(args), prog_name="strm", standalone_mode=False, obj=state)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _check_plugins_reached(plugins: StrmPluginManager, wanted: Sequence[str]) -> None:
    """An app whose plugins were loaded before this command ran (``app.main()`` after its
    module configured it) cannot take ``--plugin`` any more: say so rather than ignore it."""
    missing = [spec for spec in wanted if spec not in plugins.selection]
    if missing:
        raise StrmError(
            f"--plugin {' '.join(missing)}: the app's plugins were loaded before the command "
            "line was read; give them to the app instead (App(plugins=[...]))"
        )


def make_cli(plugins: StrmPluginManager, app: App | None = None) -> click.Group:
    """The root group with the core commands, every plugin's commands and options, and the
    app's own commands (``@app.command``)."""
    group = click.Group(
        name="strm",
        callback=_root,
        params=list(ROOT_OPTIONS),
        help="strm: stream processing on a small plugin kernel.",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for command in (
        worker_command,
        agents_command,
        tables_command,
        plugins_command,
        settings_command,
        models_command,
        model_command,
        send_command,
        reset_command,
        clean_versions_command,
        completion_command,
        new_plugin_command,
    ):
        group.add_command(command)
    for options in plugins.hook.strm_cli_options():
        group.params.extend(options or [])
    for commands in plugins.hook.strm_cli_commands():
        for command in commands or []:
            if command.name in group.commands:
                raise StrmError(f"a plugin adds a command {command.name!r}, which already exists")
            group.add_command(command)
    for command in app.commands.values() if app is not None else ():
        if command.name in group.commands:
            raise StrmError(f"the app adds a command {command.name!r}, which already exists")
        group.add_command(command)
    return group


ROOT_OPTIONS: tuple[click.Parameter, ...] = (
    click.Option(["-A", "--app"], help="The app: a module (proj.app) or module:attribute."),
    click.Option(
        ["--plugin"],
        multiple=True,
        help="Load a plugin by module path or entry point name; 'no:NAME' blocks one. "
        "Repeatable; STRM_PLUGINS adds more (comma-separated).",
    ),
    click.Option(["-D", "--datadir"], help="Data directory (the datadir setting)."),
    click.Option(
        ["-l", "--loglevel"],
        type=click.Choice(LOGLEVELS, case_sensitive=False),
        default="warn",
        show_default=True,
        help="Logging level of the worker.",
    ),
    click.Option(["-f", "--logfile"], help="Log to this file instead of stderr."),
    click.Option(
        ["--log-format"],
        type=click.Choice(LOG_FORMATS, case_sensitive=False),
        default="text",
        show_default=True,
        envvar="STRM_LOG_FORMAT",
        show_envvar=True,
        help="Worker log lines for people, or one JSON object per line for machines.",
    ),
    click.Option(["--json", "json_output"], is_flag=True, help="JSON output for listings."),
    click.Option(
        ["--debug/--no-debug"], default=False, help="Tracebacks on errors; asyncio debug."
    ),
    click.Option(
        ["--blocking-timeout"],
        type=float,
        help="Log where the event loop is blocked for longer than this (blocking_timeout).",
    ),
    click.Option(
        ["--loop"],
        type=click.Choice(LOOPS),
        default="asyncio",
        show_default=True,
        help="Event loop implementation.",
    ),
    VERSION_OPTION,
)


@click.pass_context
def _root(
    ctx: click.Context,
    /,
    *,
    app: str | None,
    plugin: tuple[str, ...],
    datadir: str | None,
    loglevel: str,
    logfile: str | None,
    log_format: str,
    json_output: bool,
    debug: bool,
    blocking_timeout: float | None,
    loop: str,
    **plugin_values: Any,
) -> None:
    state = ctx.ensure_object(CliState)
    state.json, state.debug, state.loop = json_output, debug, loop
    state.loglevel, state.logfile = LEVELS[loglevel.lower()], logfile
    state.log_format = log_format
    overrides: dict[str, Any] = {}
    if datadir is not None:
        overrides["datadir"] = datadir
    if blocking_timeout is not None:
        overrides["blocking_timeout"] = blocking_timeout
    setting_names = {s.name for s in KERNEL_SETTINGS} | {s.name for s in state.plugins.settings()}
    for name, value in plugin_values.items():
        if value is None:
            continue
        if name in setting_names:
            overrides[name] = value
        else:
            state.plugin_options[name] = value
    if state.app is not None:
        state.app.override_settings(**overrides)
