"""``strm completion``: the shell script that completes ``strm`` commands and options.

Click does the completing; the script only asks ``strm`` itself (with ``_STRM_COMPLETE`` set),
so the app's own commands complete once ``-A`` is on the line. ``eval "$(strm completion)"`` in
a shell's start-up file turns it on; the shell is taken from ``$SHELL`` unless named.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import get_completion_class

#: The environment variable click's completion scripts set when they call ``strm``.
COMPLETE_VAR = "_STRM_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@click.command("completion", help="Print the shell completion script (bash, zsh or fish).")
@click.argument("shell", required=False, type=click.Choice(SHELLS))
@click.pass_context
def completion_command(ctx: click.Context, shell: str | None) -> None:
    if shell is None:
        shell = Path(os.environ.get("SHELL", "")).name
        if shell not in SHELLS:
            raise click.UsageError(
                f"cannot tell the shell from SHELL={os.environ.get('SHELL', '')!r}; "
                f"name one: strm completion {{{','.join(SHELLS)}}}"
            )
    root = ctx.find_root().command
    completion = get_completion_class(shell)
    assert completion is not None  # every name in SHELLS is one of click's
    click.echo(completion(root, {}, "strm", COMPLETE_VAR).source())
