"""The named records that registration hooks return.

A hook such as ``strm_stores`` returns a list of :class:`Provision` records rather than registering
anything itself: the plugin manager gathers them, fills in which distribution provided each one,
and refuses two providers of one name with an error that names both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

#: The kinds of backend or extension a plugin can provide, each with its hook.
KINDS: dict[str, str] = {
    "transport": "strm_transports",
    "store": "strm_stores",
    "cache": "strm_caches",
    "web": "strm_web_drivers",
    "web_transport": "strm_web_transports",
    "codec": "strm_codecs",
    "supervisor": "strm_agent_supervisors",
    "partitioner": "strm_producer_partitioners",
    "consumer_scheduler": "strm_consumer_schedulers",
    "sensor": "strm_sensors",
    "class": "strm_extension_classes",
    "model_type": "strm_model_types",
}


@dataclass(frozen=True)
class Provision:
    """One thing a plugin provides: a backend by URL scheme, a codec by name, a class by setting.

    ``name`` is the URL scheme (``rocksdb``), codec or strategy name (``json``, ``one_for_one``) or,
    for ``kind='class'``, the extension setting the class serves (``Agent``, ``Worker``).
    ``factory`` is what resolution returns: usually a class, sometimes a function.
    ``distribution`` is filled in by the plugin manager when the plugin leaves it empty.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    distribution: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown provision kind {self.kind!r}; expected one of {sorted(KINDS)}"
            )
        if not self.name:
            raise ValueError(f"a {self.kind} provision needs a name")

    def with_distribution(self, distribution: str) -> Provision:
        return self if self.distribution else replace(self, distribution=distribution)


def transport(scheme: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("transport", scheme, factory, **kw)


def store(scheme: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("store", scheme, factory, **kw)


def cache(scheme: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("cache", scheme, factory, **kw)


def web_driver(scheme: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("web", scheme, factory, **kw)


def web_transport(scheme: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("web_transport", scheme, factory, **kw)


def codec(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("codec", name, factory, **kw)


def supervisor(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("supervisor", name, factory, **kw)


def partitioner(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("partitioner", name, factory, **kw)


def consumer_scheduler(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("consumer_scheduler", name, factory, **kw)


def sensor(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("sensor", name, factory, **kw)


def model_type(name: str, factory: Callable[..., Any], **kw: Any) -> Provision:
    return Provision("model_type", name, factory, **kw)


def extension_class(setting: str, cls: type, **kw: Any) -> Provision:
    return Provision("class", setting, cls, **kw)
