"""``strm --version``: strm's version, and the versions of the plugin distributions loaded with
it, so that a bug report says what was installed in one paste."""

from __future__ import annotations

import importlib.metadata as metadata

import click

from strm.cli.context import CliState
from strm.kernel.plugins.manager import BUILTIN_DISTRIBUTION


def version_text(state: CliState | None) -> str:
    """``strm, version X`` (click's wording, as ``faust --version``), then the loaded plugins'
    distributions: the plugin manager is built before the command line is parsed, so this costs
    nothing more."""
    lines = [f"strm, version {metadata.version(BUILTIN_DISTRIBUTION)}"]
    if state is not None:
        distributions = sorted(
            {
                f"{plugin.distribution} {plugin.version}".rstrip()
                for plugin in state.plugins.plugins()
                if not plugin.builtin
            }
        )
        if distributions:
            lines.append(f"plugins: {', '.join(distributions)}")
    return "\n".join(lines)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text(ctx.find_object(CliState)))
    ctx.exit()


VERSION_OPTION = click.Option(
    ["--version"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show strm's version and the loaded plugin distributions, and exit.",
)
