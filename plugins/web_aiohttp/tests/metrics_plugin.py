"""A plugin that serves ``/metrics`` through the ``strm_web_routes`` hook, as a Prometheus
plugin would (loaded by module name in test_operator.py)."""

from __future__ import annotations

import strm
from strm.app import App
from strm.web import Request, Response, View, WebRoute


class Metrics(View):
    async def get(self, request: Request) -> Response:
        received = self.app.monitor.asdict()["messages_received_total"]
        return self.text(f"strm_messages_received_total {received}\n")


class TakenRoot(View):
    async def get(self, request: Request) -> Response:
        return self.text("the plugin's root")


@strm.hookimpl
def strm_web_routes(app: App) -> list[WebRoute]:
    return [WebRoute("/metrics", Metrics), WebRoute("/mine", TakenRoot)]
