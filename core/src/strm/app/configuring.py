"""Configuring an app: settings from objects and the command line, plugins, the
settings' resolution and checks, and the backends and classes the plugins provide
(:class:`strm.app.App`)."""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
from collections.abc import (
    Iterable,
    Mapping,
)
from types import ModuleType
from typing import TYPE_CHECKING, Any

from strm.caches.front import AppCache
from strm.codecs.registry import Serializers
from strm.kernel.errors import ConfigurationError, PluginError
from strm.kernel.model_types import ModelTypes
from strm.kernel.plugins.known import FIRST_PARTY_SETTINGS
from strm.kernel.records import Provision
from strm.kernel.redaction import redact_url
from strm.kernel.settings.catalogue import KERNEL_SETTINGS
from strm.kernel.settings.conf import COMMAND_LINE, DEFAULT, Conf
from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import import_by_name, url_scheme
from strm.kernel.spi import (
    Cache,
)
from strm.runtime.backend_contexts import cache_context
from strm.runtime.producing import check_threaded_producer
from strm.sensors import Monitor, SensorSet

#: URL settings and the kind of backend each one picks.
BACKEND_SETTINGS: dict[str, str] = {
    "broker": "transport",
    "broker_consumer": "transport",
    "broker_producer": "transport",
    "store": "store",
    "cache": "cache",
    "web": "web",
    "web_transport": "web_transport",
}


if TYPE_CHECKING:
    from strm.app import App


def config_from_object(self: App, obj: Any) -> None:
    """Take settings from a mapping, an object, a module or the dotted path of one.

    From objects and modules, public attributes that are settings are taken. Upper-case
    constants and modules are skipped, and so are classes and functions whose name is no
    setting (the helpers a config module imports); any other unknown attribute is reported as
    an unknown setting, so a misspelt name does not pass silently.
    """
    self._ensure_not_configured("config_from_object()")
    if isinstance(obj, str):
        obj = import_config(obj)
    if isinstance(obj, Mapping):
        self._given.update(obj)
        self._loose_names.difference_update(obj)
        return
    for name in dir(obj):
        if name.startswith("_") or name.isupper():
            continue
        value = getattr(obj, name)
        if isinstance(value, ModuleType):
            continue
        self._given[name] = value
        if callable(value):
            self._loose_names.add(name)
        else:
            self._loose_names.discard(name)


def use_plugins(self: App, *specs: str) -> None:
    """Add ``--plugin`` values before the plugins are loaded."""
    if self._plugins is not None:
        raise PluginError("plugins are already loaded; add them before the app is configured")
    self._plugin_selection.extend(specs)


def override_settings(self: App, **values: Any) -> None:
    """Settings from the command line: they beat environment variables and arguments."""
    if self._conf is not None:
        for name, value in values.items():
            self._conf.set(name, value, COMMAND_LINE)
        return
    self._overrides.update(values)


def configure(self: App) -> App:
    """Load plugins, check every setting and resolve the configured backends.

    Any problem is raised here, at start-up, as a :class:`strm.kernel.errors.StrmError`.
    """
    if self._conf is not None:
        return self
    self.on_before_configured.send()
    plugins = self.plugins
    plugins.check_provisions()
    specs = merge_settings(KERNEL_SETTINGS, plugins.settings())
    unavailable = {k: v for k, v in FIRST_PARTY_SETTINGS.items() if k not in specs}
    known = {*specs, *(alias.name for spec in specs.values() for alias in spec.aliases)}
    given = {
        name: value
        for name, value in self._given.items()
        if name not in self._loose_names or name in known
    }
    conf = Conf(
        app_id=self._id,
        specs=specs,
        given=given,
        environ=self.environ,
        overrides=self._overrides,
        unavailable=unavailable,
        version=metadata.version("strm"),
    )
    self._conf = conf
    try:
        for setting in BACKEND_SETTINGS:
            if conf.source_of(setting) is not DEFAULT:
                self.resolve_backend(setting)
        self._serializers = self._make_serializers()
        check_threaded_producer(self)
    except BaseException:
        self._conf = None
        raise
    self._attach_sensors()
    self.on_configured.send(conf)
    plugins.hook.strm_app_configured(app=self)
    self.on_after_configured.send()
    return self


def finalize(self: App) -> None:
    """Faust's name for settling the configuration: :meth:`configure`."""
    self.configure()


def attach_sensors(self: App) -> None:
    monitor_cls: type[Monitor] = self.extension_class("Monitor")
    self.monitor = monitor_cls(self)
    extra = [p.factory(self) for p in self.plugins.provisions("sensor").values()]
    self.sensors = SensorSet([self.monitor, *extra, *self.sensors.sensors])  # added before


def ensure_not_configured(self: App, what: str) -> None:
    if self._conf is not None:
        raise ConfigurationError(f"{what} must be called before the app is configured")


def resolve_backend(self: App, setting: str, url: str | None = None) -> Provision:
    """The provision a backend URL setting (or an explicit ``url``) picks by its scheme."""
    kind = BACKEND_SETTINGS[setting]
    value = getattr(self.conf, setting) if url is None else url
    first = value[0] if isinstance(value, list) else value
    return self.plugins.resolve(kind, url_scheme(first), setting=setting, value=redact_url(first))


def extension_class(self: App, setting: str) -> type:
    """The class for an extension setting: the user's if set, else the providing plugin's."""
    explicit = getattr(self.conf, setting)
    if explicit is not None:
        return explicit  # type: ignore[no-any-return]
    provision = self.plugins.resolve("class", setting, setting=setting)
    return provision.factory  # type: ignore[return-value]


def make_serializers(self: App) -> Serializers:
    cls = self.extension_class("Serializers")
    factories = {name: p.factory for name, p in self.plugins.provisions("codec").items()}
    serializers: Serializers = cls(
        factories,
        key_serializer=self.conf.key_serializer,
        value_serializer=self.conf.value_serializer,
    )
    provided = self.plugins.provisions("model_type").values()
    serializers.model_types = ModelTypes(p.factory() for p in provided)
    return serializers


def make_cache(self: App, url: str) -> AppCache:
    """A cache of the backend ``url`` picks, as ``app.cache`` is one."""
    factory = self.resolve_backend("cache", url=url).factory
    backend: Cache = factory(url=url, context=cache_context(self))
    return AppCache(backend, url=url, owner=self.conf.id)


async def close_cache(self: App) -> None:
    """Close the cache's connections (a later use opens them again)."""
    if self._cache is not None:
        await self._cache.close()


def merge_settings(kernel: Iterable[Setting], plugin: Iterable[Setting]) -> dict[str, Setting]:
    specs = {spec.name: spec for spec in kernel}
    for spec in plugin:
        other = specs.get(spec.name)
        if other is not None:
            raise PluginError(
                f"setting {spec.name!r} is declared by both {other.distribution} and "
                f"{spec.distribution}"
            )
        specs[spec.name] = spec
    return specs


def import_config(path: str) -> Any:
    """A module path (``'proj.settings'``) or the path of an object in one."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        pass
    try:
        return import_by_name(path)
    except ValueError as exc:
        raise ConfigurationError(f"config_from_object({path!r}): {exc}") from None
