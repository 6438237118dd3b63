"""strm's web server, driver-neutral: views, requests and responses, blueprints, CORS.

The names other parts of strm build on (the table and topic routing among them):

- ``strm.web.View``: ``self.app``, ``self.web`` (``app.web``), ``self.json/text/html/bytes``,
  ``self.error(status, reason)``, ``self.notfound(reason=)``; verbs as
  ``async def get(self, request, **match_info)``.
- ``strm.web.Request``: ``.method``, ``.path``, ``.raw_path``, ``.match_info`` (dict),
  ``.query`` and ``.headers`` (mappings; ``getall``), ``await .read()/.json()/.text()``.
- ``strm.web.Response``: ``status``, ``body`` (bytes), ``headers``, ``content_type``.
- ``app.page(path, *, base=View, cors_options=None, name=None)`` returns the View class.
- ``app.web`` (:class:`strm.web.server.Web`): ``app.web.routes`` is the route table
  (:class:`strm.web.routes.RouteTable` of :class:`WebRoute`) the driver serves through
  ``await app.web.handle(request)``; ``app.web.url_for(name, **match_info)``.
- ``app.http_client``: an ``aiohttp.ClientSession`` (the ``HttpClient`` class a driver plugin
  provides), made on first use and closed when the app stops.

The server itself is a plugin's (``strm-web-aiohttp``); see docs/web.md.
"""

from __future__ import annotations

from strm.web.blueprints import Blueprint
from strm.web.cors import ResourceOptions
from strm.web.exceptions import (
    AuthenticationFailed,
    MethodNotAllowed,
    NotAcceptable,
    NotAuthenticated,
    NotFound,
    ParseError,
    PayloadTooLarge,
    PermissionDenied,
    ServerError,
    Throttled,
    UnsupportedMediaType,
    ValidationError,
    WebError,
    WebServerError,
)
from strm.web.http import (
    Headers,
    MultiMapping,
    Request,
    Response,
    bytes_response,
    html_response,
    json_response,
    text_response,
)
from strm.web.routes import RouteTable, WebRoute
from strm.web.server import Web
from strm.web.views import View

__all__ = [
    "AuthenticationFailed",
    "Blueprint",
    "Headers",
    "MethodNotAllowed",
    "MultiMapping",
    "NotAcceptable",
    "NotAuthenticated",
    "NotFound",
    "ParseError",
    "PayloadTooLarge",
    "PermissionDenied",
    "Request",
    "ResourceOptions",
    "Response",
    "RouteTable",
    "ServerError",
    "Throttled",
    "UnsupportedMediaType",
    "ValidationError",
    "View",
    "Web",
    "WebError",
    "WebRoute",
    "WebServerError",
    "bytes_response",
    "html_response",
    "json_response",
    "text_response",
]
