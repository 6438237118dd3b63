"""Tables drawn as plain text, for ``table.as_ansitable()``.

Faust draws a table's contents with terminaltables; strm has no such dependency, and a small
renderer of its own gives the same layout (title in the top border, a line under the header)
in plain ASCII, which reads the same on a terminal and in a log file.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any


def render_mapping(
    items: Iterable[tuple[Any, Any]],
    *,
    title: str = "",
    key: str = "Key",
    value: str = "Value",
    sort: bool = False,
    sortkey: Callable[[tuple[Any, Any]], Any] = operator.itemgetter(0),
) -> str:
    """Key/value pairs as a two-column text table; ``sort`` orders them by ``sortkey``."""
    pairs = sorted(items, key=sortkey) if sort else list(items)
    rows = [[_title(key), _title(value)], *([str(k), str(v)] for k, v in pairs)]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    heading = _title(title)
    # The title sits in the top border: a long one widens the value column to fit.
    widths[1] = max(widths[1], len(heading) - widths[0] - 5)
    border = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    top = border[0] + heading + border[1 + len(heading) :]
    lines = [top]
    for number, row in enumerate(rows):
        cells = (f" {cell.ljust(width)} " for cell, width in zip(row, widths, strict=True))
        lines.append("|" + "|".join(cells) + "|")
        if number == 0:
            lines.append(border)
    if len(rows) > 1:
        lines.append(border)
    return "\n".join(lines)


def _title(text: str) -> str:
    """Headings as Faust writes them: each word capitalised, ``-`` and ``_`` as spaces."""
    return " ".join(word.capitalize() for word in text.replace("-", " ").replace("_", " ").split())
