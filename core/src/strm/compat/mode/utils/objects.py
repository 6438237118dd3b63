"""``mode.utils.objects``: names of objects, as mode writes them."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any


def _named(obj: Any) -> Any:
    """The object itself if it has a name, else its class."""
    return obj if hasattr(obj, "__name__") else type(obj)


def qualname(obj: Any) -> str:
    """``module.Qualified.Name`` of ``obj``, or of its class if it has no name of its own."""
    named = _named(obj)
    return f"{named.__module__}.{getattr(named, '__qualname__', named.__name__)}"


def shortname(obj: Any) -> str:
    """``module.Name`` of ``obj`` (or of its class), without the enclosing classes."""
    named = _named(obj)
    return f"{named.__module__}.{named.__name__}"


def _label(attribute: str, obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, int | float | Decimal):
        return str(obj)
    for candidate in (
        getattr(obj, attribute, None),
        getattr(obj, "name", None),
        getattr(obj, "__qualname__", None),
        getattr(obj, "__name__", None),
    ):
        if candidate:
            return str(candidate)
    return type(obj).__qualname__


def label(obj: Any) -> str:
    """A name for ``obj`` in messages: its ``label``, ``name`` or qualified name."""
    return _label("label", obj)


def shortlabel(obj: Any) -> str:
    """A short name for ``obj``: its ``shortlabel``, ``name`` or qualified name."""
    return _label("shortlabel", obj)


__all__ = ["cached_property", "label", "qualname", "shortlabel", "shortname"]
