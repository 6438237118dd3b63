"""``/dashboard/``: a live page of what this worker does, for an operator with a browser.

The page is three static files shipped inside the kernel's wheel (``dashboard_files/``: HTML,
CSS and JavaScript written by hand, no build step, nothing fetched from another host), so it
works offline and with whichever web driver serves it. It polls ``/dashboard/snapshot.json``
once a second (:mod:`strm.web.apps.dashboard_snapshot`).

A built-in plugin (``dashboard``), like ``/router/``: served by every worker's web server, left
out with ``--plugin no:dashboard`` (or ``STRM_PLUGINS=no:dashboard``).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from strm.kernel.hookspecs import hookimpl
from strm.web.apps.dashboard_recent import recent_log
from strm.web.apps.dashboard_snapshot import dashboard_snapshot
from strm.web.http import Request, Response
from strm.web.routes import WebRoute
from strm.web.views import View

if TYPE_CHECKING:
    from strm.app import App

PREFIX = "/dashboard/"

#: The page's files and their content types; nothing else under the prefix is served.
FILES = {
    "index.html": "text/html",
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
}


def read_file(name: str) -> bytes:
    """One of the page's files from the installed package (a wheel, a zip, a source tree)."""
    return (resources.files("strm.web.apps") / "dashboard_files" / name).read_bytes()


class DashboardFile(View):
    """The page (``/dashboard/``) and its stylesheet and script."""

    async def get(self, request: Request, name: str = "index.html") -> Response:
        content_type = FILES.get(name)
        if content_type is None:
            return self.notfound(f"the dashboard has no file {name!r}")
        response = self.bytes(read_file(name), content_type=content_type)
        response.charset = "utf-8"
        response.headers["Cache-Control"] = "no-cache"
        return response


class DashboardRedirect(View):
    """``/dashboard`` to ``/dashboard/``: the page's files are named relative to the latter."""

    async def get(self, request: Request) -> Response:
        response = self.text("", status=308)
        response.headers["Location"] = PREFIX
        return response


class DashboardSnapshot(View):
    """The figures the page draws, as JSON."""

    async def get(self, request: Request) -> Response:
        body = dashboard_snapshot(self.app, recent_log(self.app))
        return self.json(body, headers={"Cache-Control": "no-store"})


@hookimpl
def strm_web_routes(app: App) -> list[WebRoute]:
    """The dashboard's routes; attaches its log of recent failures to the app's sensors (the
    server starts before the consumer joins the group, so no rebalance is missed)."""
    recent_log(app)
    return [
        WebRoute(PREFIX.rstrip("/"), DashboardRedirect, name="dashboard-redirect"),
        WebRoute(PREFIX, DashboardFile, name="dashboard"),
        WebRoute(PREFIX + "snapshot.json", DashboardSnapshot, name="dashboard-snapshot"),
        WebRoute(PREFIX + "{name:[a-z]+\\.(?:html|css|js)}", DashboardFile, name="dashboard-file"),
    ]


__all__ = [
    "FILES",
    "PREFIX",
    "DashboardFile",
    "DashboardRedirect",
    "DashboardSnapshot",
    "strm_web_routes",
]
