"""Finding a project's agents, tasks, timers, services and commands by importing its modules.

Decorators such as ``@app.agent`` register when their module is imported, so a worker must import
every module that defines one. ``app.discover('proj')`` imports a package and every module in it,
depth first in name order, skipping test modules (``tests``, ``test_*``) and ``__main__``; the
``autodiscover`` setting says which packages a worker discovers when it starts:

* ``True``: the package of the ``origin`` setting (``strm -A proj.app`` sets origin ``proj.app``;
  its package, ``proj``, is scanned; an origin that is itself a package is scanned as it is, and
  a top-level module is only imported). With ``DJANGO_SETTINGS_MODULE`` set and Django
  importable, Django is set up and the packages of ``INSTALLED_APPS`` are scanned too (Django's
  own ``django.*`` apps excepted); an origin is then optional.
* a list of package names, or a callable returning one: those packages.

Importing runs each module's top-level code: keep it free of side effects (threads, network).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from strm.kernel.errors import ConfigurationError

SKIPPED_MODULES = ("__main__", "tests")


def packages_to_scan(
    autodiscover: bool | list[str] | Callable[[], Iterable[str]],
    origin: str | None,
    environ: Mapping[str, str],
) -> list[str]:
    """The packages an ``autodiscover`` setting names."""
    if autodiscover is False:
        return []
    if autodiscover is True:
        packages = django_packages(environ)
        if origin:
            packages.append(origin_package(origin))
        elif not packages:
            raise ConfigurationError(
                "autodiscover=True scans the package of the origin setting, and origin is not "
                "set: start the worker with 'strm -A proj.app', set origin='proj', or give "
                "autodiscover a list of packages"
            )
        return packages
    names = autodiscover() if callable(autodiscover) else autodiscover
    packages = list(names)
    bad = [name for name in packages if not isinstance(name, str) or not name]
    if bad:
        raise ConfigurationError(
            f"autodiscover: expected package names, got {', '.join(map(repr, bad))}"
        )
    return packages


def origin_package(origin: str) -> str:
    """The package discovery scans for an origin: the origin if it is a package, else the
    package holding that module (a top-level module stands for itself)."""
    module = sys.modules.get(origin)
    if module is None:
        spec = _find_spec(origin)
        is_package = spec is not None and spec.submodule_search_locations is not None
    else:
        is_package = hasattr(module, "__path__")
    if is_package or "." not in origin:
        return origin
    return origin.rpartition(".")[0]


def django_packages(environ: Mapping[str, str]) -> list[str]:
    """The packages of Django's ``INSTALLED_APPS``, when ``DJANGO_SETTINGS_MODULE`` is set and
    Django can be imported; Django is set up first, as its apps' modules need."""
    if not environ.get("DJANGO_SETTINGS_MODULE"):
        return []
    try:
        django = importlib.import_module("django")
        django_conf = importlib.import_module("django.conf")
    except ImportError:
        return []
    django.setup()
    packages = []
    for entry in django_conf.settings.INSTALLED_APPS:
        name = _django_app_package(entry)
        if name != "django" and not name.startswith("django."):
            packages.append(name)
    return packages


def _django_app_package(entry: str) -> str:
    """An ``INSTALLED_APPS`` entry is a package, or the path of an AppConfig class naming it."""
    if _find_spec(entry) is not None:
        return entry
    module_name, _, attr = entry.rpartition(".")
    config = getattr(importlib.import_module(module_name), attr, None)
    name = getattr(config, "name", None)
    if not isinstance(name, str):
        raise ConfigurationError(
            f"INSTALLED_APPS entry {entry!r} is neither a package nor an AppConfig with a name"
        )
    return name


def _find_spec(name: str) -> ModuleSpec | None:
    """The spec of a module, None when there is none (also when a parent is no package)."""
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None


def import_packages(names: Iterable[str]) -> list[str]:
    """Import each package (or module) and every module in it; the names imported, in order."""
    imported: list[str] = []
    seen: set[str] = set()
    for name in names:
        _import_tree(name, imported, seen)
    return imported


def _import_tree(name: str, imported: list[str], seen: set[str]) -> None:
    if name in seen:
        return
    seen.add(name)
    if _is_main_script(name):
        return
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        exc.add_note(f"(strm imported {name!r} to discover its agents, tasks and commands)")
        raise
    imported.append(name)
    path = getattr(module, "__path__", None)
    if path is None:
        return
    for info in sorted(pkgutil.iter_modules(path, f"{name}."), key=lambda info: info.name):
        leaf = info.name.rpartition(".")[2]
        if leaf in SKIPPED_MODULES or leaf.startswith("test_"):
            continue
        _import_tree(info.name, imported, seen)


def _is_main_script(name: str) -> bool:
    """Whether ``name`` is the file running as ``__main__`` (``python proj/app.py``): importing
    it again would run it a second time, as another module."""
    if name in sys.modules:
        return False
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if not main_file:
        return False
    spec = _find_spec(name)
    if spec is None or not spec.origin:
        return False
    return Path(spec.origin).resolve() == Path(main_file).resolve()


def main_origin(module_name: str) -> str | None:
    """The origin of an app whose ``app.main()`` is called from module ``module_name``.

    A module run with ``python -m proj.app`` is ``proj.app`` (``proj.__main__`` is ``proj``); a
    file run as ``python proj/app.py`` is named from the first ``sys.path`` entry holding it,
    normally its own directory, so it is ``app``.
    """
    module = sys.modules.get(module_name)
    name = module_name
    if module_name == "__main__":
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.name:
            name = spec.name
        else:
            name = _name_from_file(getattr(module, "__file__", None)) or ""
    if name.endswith(".__main__"):
        name = name.rpartition(".")[0]
    return name or None


def _name_from_file(file: Any) -> str | None:
    if not isinstance(file, str):
        return None
    path = Path(file).resolve().with_suffix("")
    for entry in sys.path:
        try:
            relative = path.relative_to(Path(entry or ".").resolve())
        except ValueError:
            continue
        if relative.parts and all(part.isidentifier() for part in relative.parts):
            return ".".join(relative.parts)
    return None
