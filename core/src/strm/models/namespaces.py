"""The namespace registry: which record class a payload's namespace names.

Every concrete record class registers under its ``namespace`` option (``module.QualName`` by
default, which is also Faust's default, so payloads written by a Faust app name the same classes
once the app is ported). Decoding looks a payload's namespace up here to build the subclass the
producer meant, even where the reader only declared a base class.

A later class with the same namespace replaces the earlier one: redefining a class (a reloaded
module, a test defining a model inside a function) must not leave a stale class behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strm.models.record import Record

#: The key strm writes into a record's representation to name its model: ``{"ns": ...}``.
METADATA_KEY = "__strm"

#: The key Faust writes; accepted on input so data produced by Faust apps decodes.
FAUST_METADATA_KEY = "__faust"

#: Namespace to record class.
registry: dict[str, type[Record]] = {}


def register(model: type[Record], namespace: str) -> None:
    registry[namespace] = model


def lookup(namespace: object) -> type[Record] | None:
    """The class registered under ``namespace``, or ``None`` (also for a non-string)."""
    if isinstance(namespace, str):
        return registry.get(namespace)
    return None


def namespace_of(data: object) -> object:
    """The namespace a decoded payload names in its metadata, if it names one."""
    if not isinstance(data, dict):
        return None
    meta = data.get(METADATA_KEY)
    if meta is None:
        meta = data.get(FAUST_METADATA_KEY)
    if isinstance(meta, dict):
        return meta.get("ns")
    return None
