"""Blueprints: a set of views written once and mounted on any app under a prefix.

Nothing is served until ``blueprint.register(app, url_prefix='/users/')``, which adds each
route to the app as ``@app.page`` would, named ``'<blueprint>:<route>'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from strm.caches.view import ViewCache
from strm.kernel.errors import SettingNotSupportedError
from strm.web.cors import ResourceOptions
from strm.web.routes import WebRoute
from strm.web.views import View

if TYPE_CHECKING:
    from strm.app import App
    from strm.kernel.spi import Cache

H = TypeVar("H")


@dataclass(frozen=True)
class FutureRoute:
    """A route waiting for the app it will be registered with."""

    uri: str
    name: str
    handler: Any
    base: type[View]
    cors_options: Mapping[str, ResourceOptions]


class Blueprint:
    """``Blueprint('users')``; ``@blueprint.route('/{user_id}/')``; ``.register(app)``."""

    view_name_separator: str = ":"

    def __init__(self, name: str, *, url_prefix: str | None = None) -> None:
        self.name = name
        self.url_prefix = url_prefix
        self.routes: list[FutureRoute] = []

    def route(
        self,
        uri: str,
        *,
        name: str | None = None,
        cors_options: Mapping[str, ResourceOptions] | None = None,
        base: type[View] = View,
    ) -> Callable[[H], H]:
        """Add a view class or ``async def`` handler under ``uri`` (relative to the prefix)."""

        def decorate(handler: H) -> H:
            route_name = name or str(getattr(handler, "__name__", "view"))
            self.routes.append(FutureRoute(uri, route_name, handler, base, cors_options or {}))
            return handler

        return decorate

    def cache(
        self,
        timeout: float | timedelta | None = None,
        include_headers: bool = False,
        key_prefix: str | None = None,
        backend: Cache | str | None = None,
    ) -> ViewCache:
        """Faust's ``blueprint.cache()``: a view cache whose keys carry the blueprint's name
        (``@cache.view()`` on a route's handler); ``backend`` defaults to the app's cache."""
        return ViewCache(timeout, include_headers, key_prefix or self.name, backend)

    def static(self, uri: str, file_or_directory: Any, *, name: str | None = None) -> None:
        """Faust serves files here; strm's web server serves no files (see docs/web.md)."""
        raise SettingNotSupportedError(
            f"blueprint {self.name!r}: static file routes ({uri!r}) are not supported yet by "
            "strm's web server; serve files from a web server in front of the workers"
        )

    def register(self, app: App, *, url_prefix: str | None = None) -> None:
        """Mount every route on ``app`` under ``url_prefix`` (default: the blueprint's)."""
        prefix = url_prefix if url_prefix is not None else self.url_prefix
        for route in self.routes:
            app.page(
                self._with_prefix(route.uri, prefix),
                base=route.base,
                cors_options=route.cors_options,
                name=self.view_name_separator.join([self.name, route.name]),
            )(route.handler)

    def web_routes(self, url_prefix: str | None = None) -> list[WebRoute]:
        """The routes as they would be registered, without touching an app: how the kernel
        serves its own blueprints (``/stats/`` under ``debug``) for one run of the server."""
        from strm.web.views import view_class

        prefix = url_prefix if url_prefix is not None else self.url_prefix
        out = []
        for route in self.routes:
            view = view_class(route.handler, route.base)
            name = self.view_name_separator.join([self.name, route.name])
            path = self._with_prefix(route.uri, prefix)
            out.append(WebRoute(path, view, name=name, cors_options=route.cors_options))
        return out

    @staticmethod
    def _with_prefix(uri: str, prefix: str | None) -> str:
        if not prefix:
            return uri if uri.startswith("/") else "/" + uri
        joined = prefix.rstrip("/") + "/" + uri.lstrip("/")
        return joined if joined.startswith("/") else "/" + joined

    def __repr__(self) -> str:
        return f"<Blueprint {self.name!r}: {len(self.routes)} route(s)>"


__all__ = ["Blueprint", "FutureRoute"]
