"""Finding the app named by ``-A`` and the options read before the parser is built."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from strm.app import App
from strm.kernel.errors import StrmError
from strm.kernel.suggestions import did_you_mean


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
    """Import the module or file ``spec`` names and return its App, whose origin (where
    autodiscovery starts) becomes that module.

    ``spec`` is ``module``, ``module:attribute``, ``path/to/app.py`` or
    ``path/to/app.py:attribute``. The current directory is put on ``sys.path`` first, as
    ``python -m`` would; a file's own directory goes before it, as ``python path/to/app.py`` would.
    """
    target, attr = _split_spec(spec)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module = _import_file(spec, target) if target.endswith(".py") else _import_module(spec, target)
    app = _find_app(spec, target, module, attr)
    app.override_settings(origin=module.__name__)
    return app


def _split_spec(spec: str) -> tuple[str, str]:
    """``(module or file, attribute)``; a file's ``:`` is searched from the right, so that a
    Windows drive (``C:\\proj\\app.py``) is not taken for an attribute."""
    path, colon, attr = spec.rpartition(":")
    if colon and path.endswith(".py"):
        return path, attr
    if spec.endswith(".py"):
        return spec, ""
    module, _, attr = spec.partition(":")
    return module, attr


def _import_module(spec: str, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            hint = _similar_modules(spec, exc.name)
            raise StrmError(f"-A {spec}: no module named {module_name!r}{hint}") from exc
        raise


def _similar_modules(spec: str, missing: str) -> str:
    """Modules beside the missing one (in its package, or in the current directory for a
    top-level name) whose names are close to it, as ``-A`` values."""
    package, _, name = missing.rpartition(".")
    if package:
        path = getattr(sys.modules.get(package), "__path__", None)
        prefix = f"{package}."
    else:
        path, prefix = [os.getcwd()], ""
    siblings = [info.name for info in pkgutil.iter_modules(path)] if path is not None else []
    suffix = spec[len(missing) :]
    return did_you_mean(name, siblings, show=lambda close: repr(f"{prefix}{close}{suffix}"))


def _import_file(spec: str, file: str) -> ModuleType:
    """Import ``path/to/app.py`` as module ``app`` with its directory first on ``sys.path``, so
    that it can import its neighbours; a module of that name imported from elsewhere is an
    error rather than a silent substitute."""
    path = Path(file).resolve()
    if not path.is_file():
        siblings = [p.name for p in path.parent.glob("*.py")] if path.parent.is_dir() else []
        where = file[: len(file) - len(path.name)]
        hint = did_you_mean(path.name, siblings, show=lambda close: repr(f"{where}{close}"))
        raise StrmError(f"-A {spec}: no such file {file!r}{hint}")
    directory = str(path.parent)
    if directory in sys.path:
        sys.path.remove(directory)
    sys.path.insert(0, directory)
    module = importlib.import_module(path.stem)
    loaded_from = getattr(module, "__file__", None)
    if loaded_from is None or Path(loaded_from).resolve() != path:
        raise StrmError(
            f"-A {spec}: the module name {path.stem!r} is already taken by "
            f"{loaded_from or 'a built-in module'}; rename {file}"
        )
    return module


def _find_app(spec: str, target: str, module: ModuleType, attr: str) -> App:
    apps = {name: value for name, value in vars(module).items() if isinstance(value, App)}
    if attr:
        app = apps.get(attr)
    else:
        app = apps.get("app")
        if app is None and len(apps) == 1:
            app = next(iter(apps.values()))
    if app is not None:
        return app
    wanted = attr or "app"
    hint = did_you_mean(wanted, apps, show=lambda close: repr(f"{target}:{close}"))
    raise StrmError(
        f"-A {spec}: {target} has no strm.App named {wanted!r}"
        + (hint or f"; use -A {target}:NAME")
    )
