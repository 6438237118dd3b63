"""Class-based views, as Faust writes them.

A view is a class with one method per HTTP verb, ``async def get(self, request, **match_info)``
returning a :class:`strm.web.Response` made by ``self.json``/``text``/``html``/``bytes``. A plain
``async def`` handler becomes a view's ``get`` (:meth:`View.from_handler`), which is what
``@app.page`` does with a function. One instance per view serves every request while the web
server runs, so ``__post_init__`` is the place for per-server state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar, no_type_check

from strm.caches import responses
from strm.web import exceptions
from strm.web.http import (
    Request,
    Response,
    bytes_response,
    html_response,
    json_response,
    text_response,
)

if TYPE_CHECKING:
    from strm.app import App
    from strm.web.server import Web

_bytes = bytes

#: The verbs a view may define, lower-case as its methods are named.
METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "search")


class View:
    """An HTTP endpoint: subclass and define ``get``/``post``/``put``/``patch``/``delete``."""

    ServerError: ClassVar[type[exceptions.WebError]] = exceptions.ServerError
    ValidationError: ClassVar[type[exceptions.WebError]] = exceptions.ValidationError
    ParseError: ClassVar[type[exceptions.WebError]] = exceptions.ParseError
    NotAuthenticated: ClassVar[type[exceptions.WebError]] = exceptions.NotAuthenticated
    PermissionDenied: ClassVar[type[exceptions.WebError]] = exceptions.PermissionDenied
    NotFound: ClassVar[type[exceptions.WebError]] = exceptions.NotFound

    view_name: ClassVar[str] = ""
    view_path: ClassVar[str] = ""

    @classmethod
    def from_handler(cls, fun: Callable[..., Awaitable[Any]]) -> type[View]:
        """A view class whose ``get`` is ``fun(self, request, **match_info)``."""
        if not callable(fun):
            raise TypeError(f"a view handler must be callable, not {fun!r}")
        attrs = {"get": fun, "__doc__": fun.__doc__, "__module__": fun.__module__}
        return type(getattr(fun, "__name__", "view"), (cls,), attrs)

    def __init__(self, app: App, web: Web) -> None:
        self.app = app
        self.web = web
        self.__post_init__()

    def __post_init__(self) -> None:
        """Set up state shared by this view's requests while the server runs."""

    @classmethod
    def get_methods(cls) -> set[str]:
        """The verbs this view answers (upper-case); HEAD comes with GET."""
        found = {name.upper() for name in METHODS if _overrides(cls, name)}
        if "GET" in found:
            found.add("HEAD")
        return found

    async def __call__(self, request: Request) -> Response:
        return await self.dispatch(request)

    async def dispatch(self, request: Request) -> Response:
        """Call the method of the request's verb with the path's placeholders; a
        :class:`strm.web.WebError` it raises becomes its JSON error response."""
        name = request.method.lower()
        if name not in METHODS or name.upper() not in self.get_methods():
            allowed = ", ".join(sorted(self.get_methods()))
            response = self.error(405, f"Method {request.method} not allowed.")
            response.headers["Allow"] = allowed
            return response
        method: Callable[..., Awaitable[Any]] = getattr(self, name)
        try:
            result = await method(request, **request.match_info)
        except exceptions.WebError as exc:
            return await self.on_request_error(request, exc)
        if not isinstance(result, Response):
            raise TypeError(
                f"view {type(self).__name__}.{name} returned {type(result).__name__}, not a "
                "Response (use self.json(...), self.text(...), ...)"
            )
        return result

    async def on_request_error(self, request: Request, exc: exceptions.WebError) -> Response:
        return self.error(exc.code, exc.detail, **exc.extra_context)

    # -- verbs: a view defines those it answers -----------------------------------------------

    @no_type_check
    async def head(self, request: Request, **kwargs: Any) -> Any:
        return await self.get(request, **kwargs)

    @no_type_check
    async def get(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method GET not allowed.")

    @no_type_check
    async def post(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method POST not allowed.")

    @no_type_check
    async def put(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method PUT not allowed.")

    @no_type_check
    async def patch(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method PATCH not allowed.")

    @no_type_check
    async def delete(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method DELETE not allowed.")

    @no_type_check
    async def options(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method OPTIONS not allowed.")

    @no_type_check
    async def search(self, request: Request, **kwargs: Any) -> Any:
        raise exceptions.MethodNotAllowed("Method SEARCH not allowed.")

    # -- responses -----------------------------------------------------------------------------

    def response_to_bytes(self, response: Response) -> bytes:
        """A response as one cache value (Faust's; the view cache stores what this gives)."""
        return responses.response_to_bytes(response)

    def bytes_to_response(self, payload: bytes) -> Response:
        """The response a cache value holds (raises ``NotACachedResponse``, a miss, for any
        other value)."""
        response: Response = responses.bytes_to_response(payload, Response)
        return response

    def json(
        self,
        value: Any,
        *,
        content_type: str | None = None,
        status: int = 200,
        reason: str | None = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        return json_response(
            value, status=status, content_type=content_type, reason=reason, headers=headers
        )

    def text(
        self,
        value: str,
        *,
        content_type: str | None = None,
        status: int = 200,
        reason: str | None = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        return text_response(
            value, status=status, content_type=content_type, reason=reason, headers=headers
        )

    def html(
        self,
        value: str,
        *,
        content_type: str | None = None,
        status: int = 200,
        reason: str | None = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        return html_response(
            value, status=status, content_type=content_type, reason=reason, headers=headers
        )

    def bytes(
        self,
        value: _bytes,
        *,
        content_type: str | None = None,
        status: int = 200,
        reason: str | None = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        return bytes_response(
            value, status=status, content_type=content_type, reason=reason, headers=headers
        )

    def error(
        self,
        status: int,
        reason: str,
        headers: MutableMapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        """A JSON error: ``{"error": reason, **kwargs}`` with ``status``."""
        return self.json({"error": reason, **kwargs}, status=status, headers=headers)

    def notfound(self, reason: str = "Not Found", **kwargs: Any) -> Response:
        return self.error(404, reason, **kwargs)

    async def read_request_content(self, request: Request) -> _bytes:
        return await request.read()

    def path_for(self, view_name: str, **kwargs: str) -> str:
        """The path of the view named ``view_name``, placeholders filled from ``kwargs``."""
        return self.web.url_for(view_name, **kwargs)

    def url_for(self, view_name: str, _base_url: str | None = None, **kwargs: str) -> str:
        """The full URL of a view: ``canonical_url`` (or ``_base_url``) and its path."""
        base = str(_base_url if _base_url is not None else self.app.conf.canonical_url)
        return base.rstrip("/") + "/" + self.path_for(view_name, **kwargs).lstrip("/")


def _overrides(cls: type[View], name: str) -> bool:
    mine = getattr(cls, name, None)
    return mine is not None and mine is not getattr(View, name)


def view_class(handler: Any, base: type[View] = View) -> type[View]:
    """A View subclass as given, or one made from an ``async def`` handler."""
    if isinstance(handler, type):
        if not issubclass(handler, View):
            raise TypeError(f"{handler.__name__} must be a subclass of strm.web.View")
        return handler
    return base.from_handler(handler)


ViewHandler = Callable[..., Awaitable[Response]]
ViewArg = type[View] | ViewHandler
CorsOptions = Mapping[str, Any]

__all__ = ["METHODS", "View", "ViewArg", "view_class"]
