"""Finding a record class by the name a person types: ``strm model Order``,
``strm send --value-type Order``.

Records register under their namespace (``module.QualName``). Names are shown relative to the
app's origin (``Order`` for ``shop.Order`` when the app is ``-A shop``), so that is also what is
looked up first; the full namespace and a dotted import path (``shop.models:Order``) work too,
as in Faust.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from strm.kernel.errors import StrmError
from strm.kernel.suggestions import did_you_mean
from strm.models import namespaces
from strm.models.record import Record

if TYPE_CHECKING:
    from strm.app import App


def short_name(app: App | None, namespace: str) -> str:
    """The namespace without the app's origin: what a person types for one of the app's own."""
    origin = app.conf.origin if app is not None else None
    if origin:
        root = origin.partition(":")[0]
        if namespace.startswith(f"{root}."):
            return namespace[len(root) + 1 :]
    return namespace


def is_builtin(namespace: str) -> bool:
    """Records strm itself (or Faust, with ``@``) defines, hidden unless ``--builtins``."""
    return namespace.startswith(("@", "strm.")) or namespace.split(".")[0].startswith("strm_")


def find_model(app: App | None, name: str, *, option: str = "model") -> type[Record]:
    """The record class ``name`` names; a :class:`StrmError` with the close names if none."""
    registry = namespaces.registry
    candidates = [name]
    origin = app.conf.origin if app is not None else None
    if origin:
        root = origin.partition(":")[0]
        candidates += [f"{root}.{name}", f"{root}.models.{name}"]
    for candidate in candidates:
        found = registry.get(candidate)
        if found is not None:
            return found
    by_qualname = [m for ns, m in registry.items() if ns.rsplit(".", 1)[-1] == name]
    if len(by_qualname) == 1:
        return by_qualname[0]
    imported = _import(name)
    if imported is not None:
        return imported
    known = [short_name(app, ns) for ns in registry]
    hint = did_you_mean(name, known)
    if not hint:
        hint = "; 'strm models' lists them" if known else "; the app defines no models"
    raise StrmError(f"{option} {name!r}: no such model{hint}")


def _import(path: str) -> type[Record] | None:
    """``module:Attr`` or ``module.Attr``, if that imports and is a record class."""
    module_name, colon, attr = path.partition(":")
    if not colon:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, attr, None)
    if isinstance(found, type) and issubclass(found, Record):
        return found
    return None
