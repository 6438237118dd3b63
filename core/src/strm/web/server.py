"""``app.web``: the app's routes, the request dispatch and the web server's life cycle.

Routes are added at import time (``@app.page``, blueprints); the server is a driver plugin's
and starts with the app's runtime, after the agents and before the consumer, so the operator
endpoints answer while tables recover. Dispatch lives here, not in the driver, so that every
driver answers alike: a path that tries to climb out is refused, CORS preflights are answered,
a view's error becomes a JSON response and never stops the server.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from strm.kernel.errors import BackendNotFoundError
from strm.runtime.backend_contexts import web_context
from strm.web import cors
from strm.web.cors import ResourceOptions
from strm.web.driver import ThreadedDriver, WebDriver
from strm.web.exceptions import WebServerError
from strm.web.http import Request, Response, json_response
from strm.web.routes import RouteTable, WebRoute
from strm.web.views import View, view_class

if TYPE_CHECKING:
    from strm.app import App

logger = logging.getLogger("strm.web")

#: Settings that, given a value, ask for the web server (so a missing driver is an error).
ASKING_SETTINGS = (
    "web_enabled",
    "web",
    "web_port",
    "web_bind",
    "web_transport",
    "web_ssl_context",
    "web_cors_options",
    "web_in_thread",
)

_warned_missing_driver = False


class Web:
    """The app's web side: ``app.web``. ``routes`` is what ``@app.page`` registered."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.routes = RouteTable()
        self.driver: WebDriver | None = None
        self._active: RouteTable | None = None
        self._views: dict[str, View] = {}
        self._cors_defaults: dict[str, ResourceOptions] = {}

    # -- routes ------------------------------------------------------------------------------

    def page(
        self,
        path: str,
        *,
        base: type[View] = View,
        cors_options: Mapping[str, ResourceOptions] | None = None,
        name: str | None = None,
    ) -> Callable[[Any], type[View]]:
        """What ``@app.page`` does: the view class for ``path``, registered and returned."""

        def decorate(handler: Any) -> type[View]:
            view = view_class(handler, base)
            view.view_name = name or view.__name__
            view.view_path = path
            self.add_view(view, cors_options=cors_options)
            return view

        return decorate

    def add_view(
        self, view: type[View], *, cors_options: Mapping[str, ResourceOptions] | None = None
    ) -> WebRoute:
        path = view.view_path
        if self._active is not None:
            raise RuntimeError(f"cannot add the view {path!r}: the web server is running")
        return self.routes.add(
            WebRoute(
                path, view, name=view.view_name or view.__name__, cors_options=cors_options or {}
            )
        )

    def url_for(self, view_name: str, **kwargs: Any) -> str:
        """The path of a route by name, placeholders filled in."""
        table = self._active if self._active is not None else self.routes
        return table.by_name(view_name).format(**kwargs)

    @property
    def addresses(self) -> list[str]:
        """Where the server listens while it runs (``http://127.0.0.1:6066``, ``unix://...``)."""
        return [] if self.driver is None else list(self.driver.addresses)

    # -- dispatch ----------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Answer one request. Never raises: a view's failure is logged with its traceback and
        answered with 500, and the server goes on."""
        try:
            return await self._handle(request)
        except Exception as exc:
            logger.error(
                "web: %s %s failed: %s: %s",
                request.method,
                request.raw_path,
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
            return json_response({"error": "Internal Server Error"}, status=500)

    async def _handle(self, request: Request) -> Response:
        refusal = _unsafe_path(request)
        if refusal is not None:
            return json_response({"error": refusal}, status=400)
        table = self._active if self._active is not None else self.routes
        found = table.find(request.path)
        if found is None:
            return json_response({"error": "Not Found"}, status=404)
        route, match_info = found
        request.match_info = match_info
        view = self._views.get(route.path)
        if view is None:
            view = self._views[route.path] = route.view(self.app, self)
        options = cors.merged(self._cors_defaults, route.cors_options)
        if options and cors.is_preflight(request):
            return cors.preflight(request, options, view.get_methods())
        response = await view.dispatch(request)
        return cors.decorate(request, response, options) if options else response

    # -- life cycle --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Run the web server while the block runs, if the app asks for one and a driver
        plugin is installed (see :meth:`_driver_factory` for what happens otherwise)."""
        factory = self._driver_factory()
        if factory is None:
            yield
            return
        from strm.web.operator import active_routes

        conf = self.app.conf
        try:
            self._cors_defaults = cors.coerce_options(conf.web_cors_options)
        except ValueError as exc:
            raise WebServerError(f"setting 'web_cors_options': {exc}") from None
        self._active = active_routes(self.app, self.routes)
        self._views = {}
        driver: WebDriver
        context = web_context(self.app, self.handle)
        if conf.web_in_thread:
            driver = ThreadedDriver(lambda: factory(context=context), "strm-web")
        else:
            driver = factory(context=context)
        try:
            await driver.start()
        except BaseException:
            self._active = None
            raise
        self.driver = driver
        logger.info("app %r: web server on %s", conf.id, ", ".join(driver.addresses))
        try:
            yield
        finally:
            self.driver = None
            try:
                await driver.stop()
            finally:
                self._active = None
                self._views = {}

    def _driver_factory(self) -> Callable[..., WebDriver] | None:
        """The driver's factory; ``None`` when the server is off. Without a driver plugin an
        app that left the web settings alone gets one warning line; one that asked for the
        server stops with an error."""
        global _warned_missing_driver
        conf = self.app.conf
        if not conf.web_enabled:
            return None
        try:
            factory: Callable[..., WebDriver] = self.app.resolve_backend("web").factory
            return factory
        except BackendNotFoundError as exc:
            asked = [name for name in ASKING_SETTINGS if not _is_default(self.app, name)]
            hint = "pip install 'strm[web]' (the strm-web-aiohttp plugin)"
            if asked:
                raise WebServerError(
                    f"the web server cannot start ({', '.join(asked)} given): {exc}; {hint}"
                ) from None
            if not _warned_missing_driver:
                _warned_missing_driver = True
                logger.warning(
                    "the web server is off: no installed plugin provides the web driver %r; "
                    "%s, or set web_enabled=False to silence this",
                    conf.web,
                    hint,
                )
            return None


def _is_default(app: App, name: str) -> bool:
    from strm.kernel.settings.conf import DEFAULT

    return app.conf.source_of(name) is DEFAULT


def _unsafe_path(request: Request) -> str | None:
    """Why the path is refused: '.' or '..' segments (encoded or not), NUL or backslashes.
    The server serves no files, but a view may build a file name from its path."""
    raw = request.raw_path.partition("?")[0]
    decoded = unquote(raw)
    segments = [*raw.split("/"), *decoded.split("/"), *request.path.split("/")]
    if any(s in (".", "..") for s in segments):
        return "the path must not contain '.' or '..' segments"
    if "\\" in decoded or "\x00" in decoded:
        return "the path must not contain backslashes or NUL"
    return None


__all__ = ["Web"]
