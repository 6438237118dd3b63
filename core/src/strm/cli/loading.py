"""Finding the app named by ``-A`` and the options read before the parser is built."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from strm.app import App
from strm.errors import StrmError


@dataclass
class EarlyOptions:
    """``-A``, ``--plugin`` and ``--debug``, read from argv before click parses it, because they
    decide which commands and options exist."""

    app: str | None = None
    plugins: list[str] = field(default_factory=list)
    debug: bool = False


def pre_parse(argv: Sequence[str]) -> EarlyOptions:
    early = EarlyOptions()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        name, eq, inline = arg.partition("=")
        if name in ("-A", "--app", "--plugin"):
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else None)
            if not eq:
                i += 1
            if value is not None:
                if name == "--plugin":
                    early.plugins.append(value)
                else:
                    early.app = value
        elif arg == "--debug":
            early.debug = True
        i += 1
    return early


def load_app(spec: str) -> App:
    """Import ``module`` or ``module:attribute`` and return its App.

    The current directory is put on ``sys.path`` first, as ``python -m`` would.
    """
    module_name, _, attr = spec.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise StrmError(f"-A {spec}: no module named {module_name!r}") from exc
        raise
    if attr:
        app = getattr(module, attr, None)
    else:
        app = getattr(module, "app", None)
        if not isinstance(app, App):
            found = [value for value in vars(module).values() if isinstance(value, App)]
            app = found[0] if len(found) == 1 else app
    if not isinstance(app, App):
        raise StrmError(
            f"-A {spec}: {module_name} has no strm.App named {attr or 'app'!r}; "
            f"use -A {module_name}:NAME"
        )
    return app
