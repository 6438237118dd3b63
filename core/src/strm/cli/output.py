"""How listings print: aligned columns for people, or JSON (``--json``) for programs.

Every listing command goes through :func:`show_rows`, so that ``--json`` after the command and
``strm --json`` before it mean the same everywhere, and the JSON is the rows themselves, with
every field, where the columns show a chosen few.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import click

from strm.cli.context import cli_state


def wants_json(as_json: bool) -> bool:
    """The command's own ``--json`` or the global ``strm --json``."""
    return as_json or cli_state().json


def show_rows(
    rows: Sequence[Mapping[str, object]],
    as_json: bool,
    columns: Sequence[str],
    *,
    title: str | None = None,
) -> None:
    """Print ``rows`` as JSON, or as ``columns`` aligned under a header line (after ``title``)."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if title:
        click.echo(title)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    """One line per cell: a multi-line docstring shows its first line."""
    if value is None:
        return ""
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
