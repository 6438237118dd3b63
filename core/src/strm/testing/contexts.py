"""Backend contexts for tests, built without an app.

A store or cache plugin's tests build its backend as strm does, ``factory(url=...,
context=...)``, from one of these: real settings (the kernel's and those the named plugins
declare, checked as an app checks them), a data directory of the test's choosing, and a
:class:`CrashLog` in place of stopping an app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from strm.builtins.plugins import BUILTIN_PLUGINS, ESSENTIAL_PLUGINS
from strm.kernel.assignor import PartitionAssignor
from strm.kernel.plugins.manager import StrmPluginManager
from strm.kernel.settings.catalogue import KERNEL_SETTINGS
from strm.kernel.settings.conf import Conf
from strm.kernel.settings.types import url_scheme
from strm.runtime.backend_contexts import (
    CacheContextRecord,
    Scope,
    StoreContextRecord,
    TransportContextRecord,
)

#: The app id of contexts whose test does not name one.
TEST_APP_ID = "strm-test"


class CrashLog:
    """Stands in for an app's crash: keeps the errors a backend crashed it with."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __call__(self, error: BaseException) -> None:
        self.errors.append(error)

    @property
    def error(self) -> BaseException | None:
        """The first error, as ``app.crash_error`` would be; ``None`` if none."""
        return self.errors[0] if self.errors else None


def context_settings(
    app_id: str = TEST_APP_ID, *, plugins: Sequence[str] = (), **settings: Any
) -> Conf:
    """Settings as an app with ``plugins`` resolves them (no environment, no entry points):
    the kernel's settings and the ones those plugins declare, with ``settings`` given."""
    manager = StrmPluginManager(
        list(plugins),
        environ={},
        entry_points=False,
        builtins=BUILTIN_PLUGINS,
        essential=ESSENTIAL_PLUGINS,
    )
    specs = {spec.name: spec for spec in KERNEL_SETTINGS}
    specs.update((spec.name, spec) for spec in manager.settings())
    return Conf(app_id=app_id, specs=specs, given=settings, environ={})


def backend_factory(kind: str, url: str, *, plugins: Sequence[str] = ()) -> Callable[..., Any]:
    """The factory strm would build a ``kind`` backend (``'store'``, ``'cache'``) of ``url``
    with, from the built-in plugins and ``plugins`` (no entry points)."""
    manager = StrmPluginManager(
        list(plugins),
        environ={},
        entry_points=False,
        builtins=BUILTIN_PLUGINS,
        essential=ESSENTIAL_PLUGINS,
    )
    return manager.resolve(kind, url_scheme(url), setting=kind, value=url).factory


def store_context(
    *,
    datadir: Path | str | None = None,
    table_name: str = "t",
    partition: int = 0,
    options: Mapping[str, Any] | None = None,
    conf: Conf | None = None,
    scope: Scope | None = None,
    on_crash: Callable[[BaseException], None] | None = None,
) -> StoreContextRecord:
    """A :class:`strm.kernel.contexts.StoreContext` for one table partition.

    Give ``datadir`` (stores keep their files under its ``tabledir``) or a ``conf`` of
    :func:`context_settings`; share one ``scope`` among contexts that stand for one app (stores
    that share a client per app share it by scope), and pass a :class:`CrashLog` as
    ``on_crash`` to see what the store crashed the app with.
    """
    if conf is None:
        if datadir is None:
            raise TypeError("store_context() needs datadir= or conf=")
        conf = context_settings(datadir=str(datadir))
    elif datadir is not None:
        raise TypeError("store_context() takes datadir= or conf=, not both")
    app_id = str(conf.id)
    return StoreContextRecord(
        app_id=app_id,
        conf=conf,
        scope=Scope(app_id) if scope is None else scope,
        tabledir=Path(conf.tabledir),
        table_name=table_name,
        partition=partition,
        options=MappingProxyType(dict(options or {})),
        on_crash=CrashLog() if on_crash is None else on_crash,
    )


def cache_context(*, conf: Conf | None = None, scope: Scope | None = None) -> CacheContextRecord:
    """A :class:`strm.kernel.contexts.CacheContext`, with the kernel's default settings unless
    ``conf`` (from :func:`context_settings`) is given."""
    conf = context_settings() if conf is None else conf
    app_id = str(conf.id)
    return CacheContextRecord(
        app_id=app_id, conf=conf, scope=Scope(app_id) if scope is None else scope
    )


def transport_context(
    *,
    conf: Conf | None = None,
    scope: Scope | None = None,
    changelogs: Callable[[], set[str]] = set,
    advertised_url: str = "",
) -> TransportContextRecord:
    """A :class:`strm.kernel.contexts.TransportContext`: the kernel's settings unless ``conf`` is
    given, the kernel's partition assignor with the ``table_standby_replicas`` of ``conf``,
    the changelog topics ``changelogs()`` names (none by default) and ``advertised_url``."""
    conf = context_settings() if conf is None else conf
    app_id = str(conf.id)
    standbys = int(conf.table_standby_replicas)
    return TransportContextRecord(
        app_id=app_id,
        conf=conf,
        scope=Scope(app_id) if scope is None else scope,
        make_assignor=lambda: PartitionAssignor(standby_replicas=standbys),
        changelogs=changelogs,
        url=lambda: advertised_url,
    )
