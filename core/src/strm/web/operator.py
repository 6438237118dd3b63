"""The endpoints an operator relies on: ``/`` (what runs here), ``/health`` (ready or not),
``/stats/`` (the Monitor's figures, under ``debug``), and the routes plugins add.

They are mounted for one run of the server, beside the app's own routes, which win: an app that
serves its own ``/`` keeps it.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import TYPE_CHECKING, Any

from strm.web.http import Request, Response
from strm.web.routes import RouteTable, WebRoute
from strm.web.views import View

if TYPE_CHECKING:
    from strm.app import App

logger = logging.getLogger("strm.web")


def app_state(app: App) -> str:
    """``starting`` (tables recovering), ``running``, ``rebalancing``, ``stopping``, ``stopped``."""
    runtime = app.runtime
    if not runtime.is_running:
        return "stopped"
    if runtime.stopping:
        return "stopping"
    if not runtime.recovered:
        return "starting"
    if app.rebalancing:
        return "rebalancing"
    return "running"


def strm_version() -> str:
    try:
        return importlib.metadata.version("strm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Index(View):
    """What runs here: the app's id, strm's version and the app's state."""

    async def get(self, request: Request) -> Response:
        return self.json(
            {"app": self.app.conf.id, "strm": strm_version(), "state": app_state(self.app)}
        )


class Health(View):
    """200 once the tables are recovered and the app serves; 503 before and while stopping.
    A rebalance keeps 200 (the worker is alive and serving its other partitions), flagged."""

    async def get(self, request: Request) -> Response:
        state = app_state(self.app)
        ok = state in ("running", "rebalancing")
        body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "state": state}
        return self.json(body, status=200 if ok else 503)


OPERATOR_ROUTES = (
    WebRoute("/", Index, name="index"),
    WebRoute("/health", Health, name="health"),
)


def active_routes(app: App, routes: RouteTable) -> RouteTable:
    """The app's routes, then the plugins' (``strm_web_routes``), then the operator's and,
    under ``debug``, the statistics; a path already taken keeps its first view."""
    table = routes.copy()
    extra: list[tuple[str, WebRoute]] = []
    for provided in app.plugins.hook.strm_web_routes(app=app):
        extra.extend(("a plugin", route) for route in provided or ())
    extra.extend(("strm", route) for route in OPERATOR_ROUTES)
    if app.conf.debug:
        from strm.web.apps.stats import blueprint

        extra.extend(("strm", route) for route in blueprint.web_routes("/stats/"))
    for origin, route in extra:
        if not isinstance(route, WebRoute):
            raise TypeError(f"strm_web_routes must return strm.web.WebRoute objects, got {route!r}")
        if route.path in table:
            logger.info("web: %s's route %s is served by the app's own view", origin, route.path)
            continue
        table.add(route)
    return table


__all__ = ["Health", "Index", "active_routes", "app_state"]
