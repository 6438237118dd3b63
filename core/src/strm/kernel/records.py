"""The named records that registration hooks return.

A hook such as ``strm_stores`` returns a list of :class:`Provision` records rather than registering
anything itself: the plugin manager gathers them, fills in which distribution provided each one,
and refuses two providers of one name with an error that names both.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


#: A provision's factory, or the ``'module:attribute'`` path of one.
Factory = Callable[..., Any] | str


class _Factory:
    """The ``factory`` field of :class:`Provision`: a callable, or the ``'module:attribute'`` path
    of one, imported on first read.

    Every installed plugin's module is imported by every app, so a plugin that names its backend
    by path costs the apps that never use that backend nothing: no aiohttp for a worker without
    a web server, no redis-py for one without a Redis cache. Reading the field resolves it, so
    ``provision.factory`` is the object itself either way.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    def __get__(self, provision: object, owner: type | None = None) -> Callable[..., Any]:
        if provision is None:
            raise AttributeError(self._slot)  # the field has no default
        target: Factory = provision.__dict__[self._slot]
        if isinstance(target, str):
            target = self._import(target)
            provision.__dict__[self._slot] = target
        return target

    def __set__(self, provision: object, value: Factory) -> None:
        provision.__dict__[self._slot] = value

    @staticmethod
    def _import(path: str) -> Callable[..., Any]:
        module_name, _, attribute = path.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Provision:
    """One thing a plugin provides: a backend by URL scheme, a codec by name, a class by setting.

    ``name`` is the URL scheme (``rocksdb``), codec or strategy name (``json``, ``one_for_one``) or,
    for ``kind='class'``, the extension setting the class serves (``Agent``, ``Worker``).
    ``factory`` is what resolution returns: usually a class, sometimes a function; given as a
    ``'module:attribute'`` path, it is imported when first read (see :class:`_Factory`).
    ``distribution`` is filled in by the plugin manager when the plugin leaves it empty.
    """

    kind: str
    name: str
    factory: _Factory = _Factory()
    distribution: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown provision kind {self.kind!r}; expected one of {sorted(KINDS)}"
            )
        if not self.name:
            raise ValueError(f"a {self.kind} provision needs a name")
        target = self.__dict__["_factory"]
        if isinstance(target, str) and ":" not in target:
            raise ValueError(
                f"a {self.kind} provision's path needs 'module:attribute', got {target!r}"
            )

    def with_distribution(self, distribution: str) -> Provision:
        """The same provision, marked with its distribution; a path is still not imported."""
        if self.distribution:
            return self
        unresolved = self.__dict__["_factory"]
        return Provision(self.kind, self.name, unresolved, distribution, self.description)


def transport(scheme: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("transport", scheme, factory, **kw)


def store(scheme: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("store", scheme, factory, **kw)


def cache(scheme: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("cache", scheme, factory, **kw)


def web_driver(scheme: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("web", scheme, factory, **kw)


def web_transport(scheme: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("web_transport", scheme, factory, **kw)


def codec(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("codec", name, factory, **kw)


def supervisor(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("supervisor", name, factory, **kw)


def partitioner(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("partitioner", name, factory, **kw)


def consumer_scheduler(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("consumer_scheduler", name, factory, **kw)


def sensor(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("sensor", name, factory, **kw)


def model_type(name: str, factory: Factory, **kw: Any) -> Provision:
    return Provision("model_type", name, factory, **kw)


def extension_class(setting: str, cls: type | str, **kw: Any) -> Provision:
    return Provision("class", setting, cls, **kw)


def lazy_exports(module: str, paths: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for a plugin that names its factories by path: each name in
    ``paths`` is the ``'module:attribute'`` it stands for, imported on first access, so the
    plugin's top-level module can still export its backend class without importing its client
    library (docs/plugins.md).
    """

    def __getattr__(name: str) -> Any:
        path = paths.get(name)
        if path is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return _Factory._import(path)

    return __getattr__
