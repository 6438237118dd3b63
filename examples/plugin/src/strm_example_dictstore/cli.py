"""The plugin's command line: an option of the ``strm`` command and a ``dictstore-info`` command.

``--dictstore-max-keys`` is named after the plugin's setting, so strm applies it to the app's
``dictstore_max_keys`` with command-line priority; no code here has to copy it across.
"""

from __future__ import annotations

import click
import strm
from strm.cli.context import cli_state

from strm_example_dictstore.store import MAX_KEYS_SETTING

#: The plugin's module, as ``--plugin`` names it and as ``strm plugins`` lists it.
PLUGIN_MODULE = "strm_example_dictstore"

max_keys_option = click.Option(
    ["--dictstore-max-keys"],
    type=int,
    help="Most keys a dictstore:// table partition holds (the dictstore_max_keys setting).",
)


@click.command("dictstore-info", help="Show what the dictstore example plugin provides.")
def dictstore_info() -> None:
    state = cli_state()
    app = state.app
    if app is None:
        # No -A: a throw-away app reads the setting from the environment and the command line.
        app = strm.App("dictstore-info", plugins=[PLUGIN_MODULE], entry_points=False)
        given = click.get_current_context().find_root().params.get(MAX_KEYS_SETTING)
        if given is not None:
            app.override_settings(**{MAX_KEYS_SETTING: given})
    listing = [p for p in state.plugins.describe() if p["module"] == PLUGIN_MODULE]
    for plugin in listing:
        click.echo(f"{plugin['name']}: {plugin['distribution']} {plugin['version']}".rstrip())
        for provided in plugin["provides"]:
            suffix = "://" if provided["kind"] == "store" else ""
            click.echo(f"  {provided['kind']:<8} {provided['name']}{suffix}")
    value = getattr(app.conf, MAX_KEYS_SETTING)
    source = app.conf.source_of(MAX_KEYS_SETTING)
    click.echo(f"  setting  {MAX_KEYS_SETTING} = {value} ({source})")
