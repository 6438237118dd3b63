"""The banner ``strm worker`` prints before it starts: the app, where it reads and keeps its data,
and the plugins it runs on.

Only the plugins the settings select (transport, store, cache, codecs) are listed: those are the
ones a person checks when something behaves unexpectedly, and every installed plugin is loaded
whether used or not. ``-l info`` (or ``debug``) adds the line of every loaded plugin.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from strm.app.configuring import BACKEND_SETTINGS
from strm.kernel.redaction import redact_url
from strm.kernel.settings.types import url_scheme

if TYPE_CHECKING:
    from strm.app import App
    from strm.cli.context import CliState
    from strm.kernel.plugins.manager import PluginInfo


def worker_banner(app: App, state: CliState) -> str:
    conf = app.conf
    lines = [
        f"strm worker: app {conf.id}",
        f"  broker    {';'.join(redact_url(url) for url in conf.broker)}",
        f"  store     {redact_url(conf.store)}",
        f"  datadir   {conf.datadir}",
        f"  plugins   {plugins_in_use(app) or '-'}",
    ]
    if logging.getLevelName(state.loglevel) <= logging.INFO:
        loaded = ", ".join(_named(plugin) for plugin in app.plugins.plugins())
        lines.append(f"  loaded    {loaded}")
    lines.append(f"  loop      {state.loop}, pid {os.getpid()}")
    return "\n".join(lines)


def plugins_in_use(app: App) -> str:
    """``memory_store: store memory; codecs: codec raw, codec json``: each plugin providing
    something the settings select, with what it provides."""
    provided: dict[str, tuple[PluginInfo, list[str]]] = {}
    for kind, name in _selected(app):
        plugin = app.plugins.provider(kind, name)
        if plugin is None:
            continue  # a setting at its default for a feature without a plugin (web)
        uses = provided.setdefault(plugin.name, (plugin, []))[1]
        if f"{kind} {name}" not in uses:
            uses.append(f"{kind} {name}")
    return "; ".join(f"{_named(plugin)}: {', '.join(uses)}" for plugin, uses in provided.values())


def _selected(app: App) -> list[tuple[str, str]]:
    """(kind, scheme or name) of each backend and codec the settings and tables select."""
    conf = app.conf
    selected: list[tuple[str, str]] = []
    for setting, kind in BACKEND_SETTINGS.items():
        value = getattr(conf, setting)
        for url in value if isinstance(value, list) else [value]:
            selected.append((kind, url_scheme(url)))
    for table in app.tables:
        if table.store_url:
            selected.append(("store", url_scheme(table.store_url)))
    for setting in ("key_serializer", "value_serializer"):
        codec = getattr(conf, setting)
        if isinstance(codec, str):
            selected += [("codec", name.strip()) for name in codec.split("|")]
    return selected


def _named(plugin: PluginInfo) -> str:
    """A plugin's name, with its distribution and version unless strm itself provides it."""
    if plugin.builtin:
        return plugin.name
    origin = " ".join(part for part in (plugin.distribution, plugin.version) if part)
    return f"{plugin.name} ({origin})"
