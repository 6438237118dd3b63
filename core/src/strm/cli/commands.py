"""The core sub-commands: ``worker``, ``plugins``, ``agents`` and ``tables``."""

from __future__ import annotations

import json

import click

from strm.cli.banner import worker_banner
from strm.cli.context import cli_state, current_app
from strm.cli.levels import LEVELS, LOGLEVELS
from strm.cli.output import show_rows, wants_json
from strm.cli.processes import run_processes
from strm.kernel.redaction import redact_url


@click.command("worker", help="Run the app's worker until SIGINT or SIGTERM.")
@click.option(
    "-n",
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run this many worker processes in one consumer group (each with its own datadir).",
)
# Faust puts these on ``worker`` too: given here, they beat the same options before it.
@click.option(
    "-l",
    "--loglevel",
    type=click.Choice(LOGLEVELS, case_sensitive=False),
    help="Logging level of the worker (as strm's -l).",
)
@click.option("-f", "--logfile", help="Log to this file instead of stderr (as strm's -f).")
@click.option("--blocking-timeout", type=float, help="The blocking_timeout setting.")
@click.option(
    "--with-web/--without-web",
    "web_enabled",
    default=None,
    help="The web_enabled setting.",
)
@click.option("-p", "--web-port", type=click.IntRange(1, 65535), help="The web_port setting.")
@click.option("-b", "--web-bind", help="The web_bind setting.")
@click.option("--web-host", help="The web_host setting.")
@click.option("--web-transport", help="The web_transport setting.")
def worker_command(
    processes: int,
    loglevel: str | None,
    logfile: str | None,
    blocking_timeout: float | None,
    web_enabled: bool | None,
    web_port: int | None,
    web_bind: str | None,
    web_host: str | None,
    web_transport: str | None,
) -> int:
    state = cli_state()
    if loglevel is not None:
        state.loglevel = LEVELS[loglevel.lower()]
    if logfile is not None:
        state.logfile = logfile
    given = {
        # web_enabled first: the other web settings are idle while it is off.
        "web_enabled": web_enabled,
        "web_port": web_port,
        "web_bind": web_bind,
        "web_host": web_host,
        "web_transport": web_transport,
        "blocking_timeout": blocking_timeout,
    }
    current_app().override_settings(**{k: v for k, v in given.items() if v is not None})
    app = current_app().configure()
    if processes > 1:
        return run_processes(app, state.argv, processes)
    worker_cls = app.extension_class("Worker")
    worker = worker_cls(
        app,
        loglevel=state.loglevel,
        logfile=state.logfile,
        log_format=state.log_format,
        loop=state.loop,
        debug=state.debug,
    )
    if state.log_format == "text":  # with json, stderr carries nothing but JSON lines
        click.echo(worker_banner(app, state), err=True)
    code: int = worker.execute()
    return code


@click.command("plugins", help="List the plugins, their hooks and what they provide.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_command(as_json: bool) -> None:
    state = cli_state()
    listing = state.plugins.describe()
    if as_json or state.json:
        click.echo(json.dumps(listing, indent=2))
        return
    for plugin in listing:
        version = f" {plugin['version']}" if plugin["version"] else ""
        kind = " (built-in)" if plugin["builtin"] else ""
        where = f"{plugin['distribution']}{version} [{plugin['module']}]"
        click.echo(f"{plugin['name']}{kind}: {where}")
        click.echo(f"  hooks: {', '.join(plugin['hooks']) or '-'}")
        provided = ", ".join(f"{p['kind']} {p['name']}" for p in plugin["provides"])
        if provided:
            click.echo(f"  provides: {provided}")
        if plugin["settings"]:
            click.echo(f"  settings: {', '.join(plugin['settings'])}")


@click.command("agents", help="List the app's agents: name, channel, concurrency and help.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def agents_command(as_json: bool) -> None:
    app = current_app().configure()
    rows = [
        {
            "name": agent.name,
            "channel": agent.channel.label,
            "concurrency": agent.concurrency,
            "isolated_partitions": agent.isolated_partitions,
            "help": agent.help,
        }
        for agent in app.agents.values()
    ]
    show_rows(rows, wants_json(as_json), ("name", "channel", "concurrency", "help"))


@click.command("tables", help="List the app's tables: name, kind, partitions, store and help.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tables_command(as_json: bool) -> None:
    app = current_app().configure()
    rows = []
    for table in app.tables:
        state = table.window_state
        rows.append(
            {
                "name": table.name,
                "kind": type(table).__name__,
                "window": type(state.window).__name__ if state and state.wrapper else None,
                "partitions": table.partitions,
                "store": redact_url(table.store_url or app.conf.store),
                "changelog": table.changelog_topic_name,
                "help": table.help,
            }
        )
    show_rows(rows, wants_json(as_json), ("name", "kind", "partitions", "store", "help"))
