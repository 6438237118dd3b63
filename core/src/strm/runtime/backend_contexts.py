"""The kernel's side of :mod:`strm.kernel.contexts`: contexts built over an app.

A frozen record per kind carries the values and the one callback a backend may use; the app
itself stays out of reach, so a backend cannot come to depend on more of it than its context
says. Tests build the same records without an app (:mod:`strm.testing.contexts`).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from strm.kernel.contexts import SettingsView

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.kernel.assignor import PartitionAssignor
    from strm.web.http import Request, Response


class Scope:
    """The token that stands for one app in its backends' contexts (see
    :attr:`strm.kernel.contexts.BackendContext.scope`); weakly referable and hashable by
    identity."""

    __slots__ = ("__weakref__", "app_id")

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id

    def __repr__(self) -> str:
        return f"<strm scope of app {self.app_id!r}>"


_SCOPES: weakref.WeakKeyDictionary[AppLike, Scope] = weakref.WeakKeyDictionary()


def scope_of(app: AppLike) -> Scope:
    """The app's scope, the same object every time (it lives as long as the app)."""
    scope = _SCOPES.get(app)
    if scope is None:
        scope = _SCOPES[app] = Scope(str(app.conf.id))
    return scope


@dataclass(frozen=True)
class CacheContextRecord:
    """A :class:`strm.kernel.contexts.CacheContext`."""

    app_id: str
    conf: SettingsView
    scope: object


@dataclass(frozen=True)
class StoreContextRecord:
    """A :class:`strm.kernel.contexts.StoreContext`."""

    app_id: str
    conf: SettingsView
    scope: object
    tabledir: Path
    table_name: str
    partition: int
    options: Mapping[str, Any]
    on_crash: Callable[[BaseException], None] = field(repr=False)

    def crash(self, error: BaseException) -> None:
        self.on_crash(error)


@dataclass(frozen=True)
class TransportContextRecord:
    """A :class:`strm.kernel.contexts.TransportContext`: the three questions a group's plan asks are
    answered by the callables it is given."""

    app_id: str
    conf: SettingsView
    scope: object
    make_assignor: Callable[[], PartitionAssignor] = field(repr=False)
    changelogs: Callable[[], set[str]] = field(repr=False)
    url: Callable[[], str] = field(repr=False)

    def assignor(self) -> PartitionAssignor:
        return self.make_assignor()

    def changelog_topics(self) -> set[str]:
        return self.changelogs()

    def advertised_url(self) -> str:
        return self.url()


@dataclass(frozen=True)
class WebContextRecord:
    """A :class:`strm.kernel.contexts.WebContext`."""

    app_id: str
    conf: SettingsView
    scope: object
    handler: Callable[[Request], Awaitable[Response]] = field(repr=False)
    listeners: Callable[[], Callable[..., Any]] = field(repr=False)

    async def handle(self, request: Request) -> Response:
        return await self.handler(request)

    def listener_factory(self) -> Callable[..., Any]:
        return self.listeners()


def cache_context(app: AppLike) -> CacheContextRecord:
    """The context a cache backend of ``app`` is built with."""
    return CacheContextRecord(app_id=str(app.conf.id), conf=app.conf, scope=scope_of(app))


def store_context(
    app: AppLike, table_name: str, partition: int, options: Mapping[str, Any] | None = None
) -> StoreContextRecord:
    """The context a store of one table partition of ``app`` is built with."""
    return StoreContextRecord(
        app_id=str(app.conf.id),
        conf=app.conf,
        scope=scope_of(app),
        tabledir=Path(app.conf.tabledir),
        table_name=table_name,
        partition=partition,
        options=MappingProxyType(dict(options or {})),
        on_crash=app.crash,
    )


def transport_context(app: AppLike) -> TransportContextRecord:
    """The context a transport of ``app`` is built with."""
    from strm.kernel.assignor import advertised_url

    def make_assignor() -> PartitionAssignor:
        cls: type[PartitionAssignor] = app.extension_class("PartitionAssignor")
        return cls(app)

    return TransportContextRecord(
        app_id=str(app.conf.id),
        conf=app.conf,
        scope=scope_of(app),
        make_assignor=make_assignor,
        changelogs=lambda: app.tables.changelog_names,
        url=lambda: advertised_url(app),
    )


def web_context(
    app: AppLike, handler: Callable[[Request], Awaitable[Response]]
) -> WebContextRecord:
    """The context a web driver of ``app`` is built with; ``handler`` answers its requests."""
    return WebContextRecord(
        app_id=str(app.conf.id),
        conf=app.conf,
        scope=scope_of(app),
        handler=handler,
        listeners=lambda: app.resolve_backend("web_transport").factory,
    )
