"""``@app.table_route`` and ``@app.topic_route``: serve a request on the worker that holds its
key, and the ``/router/`` views that show who holds what.

The decorators wrap a view method (``async def get(self, request, **match_info)``) or a page
function of the same shape. Each request's key is read from the request (a query parameter, a
path placeholder, or a fixed key); the :class:`strm.router.Router` finds the worker holding the
key's partition. If that is this worker the wrapped handler answers; otherwise the request is
forwarded there once and its answer returned. When nobody can say who holds the key (a
rebalance, a worker that does not answer) the client gets 503 with ``Retry-After``: an empty
answer from the wrong worker would look like a missing key.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import StrmError
from strm.kernel.hookspecs import hookimpl
from strm.router import RETRY_AFTER, RouteUnavailable, SameNode
from strm.tables.standby_reads import reading_standbys
from strm.web.blueprints import Blueprint
from strm.web.http import Request, Response, json_response
from strm.web.routes import WebRoute
from strm.web.views import View

if TYPE_CHECKING:
    from strm.app import App
    from strm.channels import Topic
    from strm.tables.table import Collection

Handler = Callable[..., Awaitable[Response]]
#: On an answer read from a standby copy (``standby_ok=True``): it may be behind the owner.
STANDBY_HEADER = "X-Strm-Standby"
#: Faust's warning for ``shard_param``, which ``query_param`` replaced.
W_DEPRECATED_SHARD_PARAM = "shard_param is deprecated: use query_param instead"


class RouteKey:
    """Where a route's key comes from: a fixed key, a path placeholder or a query parameter
    (in that order of precedence, as in Faust)."""

    def __init__(
        self,
        what: str,
        shard_param: str | None,
        query_param: str | None,
        match_info: str | None,
        exact_key: str | None,
    ) -> None:
        if shard_param is not None:
            warnings.warn(DeprecationWarning(W_DEPRECATED_SHARD_PARAM), stacklevel=4)
            if query_param:
                raise TypeError(f"{what}: give shard_param or query_param, not both")
            query_param = shard_param
        if query_param is None and match_info is None and exact_key is None:
            raise TypeError(f"{what}: give one of query_param, match_info or exact_key")
        self.query_param = query_param
        self.match_info = match_info
        self.exact_key = exact_key

    def __call__(self, request: Request) -> str:
        """The key's text; :class:`MalformedKey` when the request does not carry it."""
        if self.exact_key:
            return self.exact_key
        if self.match_info:
            found = request.match_info.get(self.match_info)
            if found is None:
                raise MalformedKey(f"the path has no {{{self.match_info}}} for the key")
            return found
        assert self.query_param is not None
        value = request.query.get(self.query_param)
        if value is None:
            raise MalformedKey(f"the query parameter {self.query_param!r} (the key) is missing")
        return value


class MalformedKey(StrmError):
    """The request's key is missing or cannot be a key of the table or topic: answered 400."""


def coerce_key(text: str, key_type: Any) -> Any:
    """The key a route's text stands for, for a table or topic of ``key_type``: a URL carries
    text, and ``'42'`` is not the key ``42`` of an ``int``-keyed table (it would be serialized,
    and so partitioned, differently)."""
    if key_type is int:
        try:
            return int(text)
        except ValueError:
            raise MalformedKey(f"the key {text!r} is not an integer") from None
    if key_type is float:
        try:
            return float(text)
        except ValueError:
            raise MalformedKey(f"the key {text!r} is not a number") from None
    if key_type is bytes:
        return text.encode()
    return text


def table_route(
    app: App,
    table: Collection | str,
    shard_param: str | None = None,
    *,
    query_param: str | None = None,
    match_info: str | None = None,
    exact_key: str | None = None,
    standby_ok: bool = False,
) -> Callable[[Handler], Handler]:
    """What ``@app.table_route`` does (see the module's docstring). With ``standby_ok`` a
    worker keeping a standby copy of the key's partition answers from it, with the header
    ``X-Strm-Standby: true`` (docs/web-routing.md says how stale a standby is)."""
    if not isinstance(table, str) and table.is_global:
        raise TypeError(
            f"table_route: table {table.name!r} is global, so every worker holds all of it; "
            "read it where the request arrives, without a route"
        )
    name = table if isinstance(table, str) else table.name
    read_key = RouteKey(f"table_route({name!r})", shard_param, query_param, match_info, exact_key)

    async def route(view: View, request: Request, key: str) -> Response:
        collection = app.tables.tables.get(name)
        if collection is None:
            raise StrmError(f"table_route: app {app!r} has no table {name!r}")
        value = coerce_key(key, collection.schema.key_type)
        _check_serializable(key, lambda: collection.dumps_key(value), f"table {name!r}")
        return await app.router.route_req(name, value, view.web, request, standby_ok=standby_ok)

    return _decorator(read_key, route)


def topic_route(
    app: App,
    topic: Topic | str,
    shard_param: str | None = None,
    *,
    query_param: str | None = None,
    match_info: str | None = None,
    exact_key: str | None = None,
) -> Callable[[Handler], Handler]:
    """What ``@app.topic_route`` does: route by the partition ``topic``'s producer sends the
    key to, to the worker consuming that partition."""
    label = topic if isinstance(topic, str) else topic.label
    read_key = RouteKey(f"topic_route({label!r})", shard_param, query_param, match_info, exact_key)

    async def route(view: View, request: Request, key: str) -> Response:
        channel = app.topic(topic) if isinstance(topic, str) else topic
        value = coerce_key(key, channel.schema.key_type)
        dumps = channel.schema.dumps_key
        _check_serializable(key, lambda: dumps(app.serializers, value), f"topic {label!r}")
        return await app.router.route_topic_req(channel, value, view.web, request)

    return _decorator(read_key, route)


def _check_serializable(text: str, dumps: Callable[[], Any], what: str) -> None:
    """A key the codec refuses is the client's mistake (400), not the server's (500)."""
    try:
        dumps()
    except Exception as exc:
        raise MalformedKey(f"the key {text!r} cannot be a key of {what}: {exc}") from None


def _decorator(
    read_key: RouteKey, route: Callable[[View, Request, str], Awaitable[Response]]
) -> Callable[[Handler], Handler]:
    def decorate(fun: Handler) -> Handler:
        @functools.wraps(fun)
        async def routed(view: View, request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return await route(view, request, read_key(request))
            except SameNode as same:
                if not same.standby:
                    return await fun(view, request, *args, **kwargs)
                with reading_standbys():
                    response = await fun(view, request, *args, **kwargs)
                response.headers[STANDBY_HEADER] = "true"
                return response
            except MalformedKey as exc:
                return json_response({"error": str(exc)}, status=400)
            except RouteUnavailable as exc:
                return unavailable(exc.detail)

        return routed

    return decorate


def unavailable(detail: str) -> Response:
    """503 with ``Retry-After``: ask again once the group has settled."""
    return json_response(
        {"error": f"Service unavailable: {detail}. Try again later."},
        status=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


# -- /router/ ------------------------------------------------------------------------------------

#: The router's views, mounted at ``/router/`` by the web server (Faust's paths and names).
blueprint = Blueprint("router")


def _lookup(view: View, lookup: Callable[[], Any]) -> Response:
    try:
        return view.json(lookup())
    except RouteUnavailable as exc:
        return unavailable(exc.detail)


@blueprint.route("/", name="list")
class TableList(View):
    """``{url: {changelog topic: [partition, ...]}}``: which worker holds which partitions of
    every table."""

    async def get(self, request: Request) -> Response:
        return _lookup(self, self.app.router.tables_metadata)


@blueprint.route("/topics", name="topics")
class TopicList(View):
    """``{url: {topic: [partition, ...]}}`` for the topics that are not changelogs."""

    async def get(self, request: Request) -> Response:
        return _lookup(self, self.app.router.external_topics_metadata)


@blueprint.route("/standbys", name="standbys")
class StandbyList(View):
    """``{url: {changelog topic: [partition, ...]}}`` of the standby copies."""

    async def get(self, request: Request) -> Response:
        return _lookup(self, self.app.router.standbys_metadata)


@blueprint.route("/{name}/", name="detail")
class TableDetail(View):
    """The workers holding one table's partitions."""

    async def get(self, request: Request, name: str) -> Response:
        if name not in self.app.tables.tables:
            return self.notfound(f"no table {name!r}")
        return _lookup(self, lambda: self.app.router.table_metadata(name))


@blueprint.route("/{name}/{key}/", name="key-detail")
class TableKeyDetail(View):
    """The URL of the worker holding one key of a table."""

    async def get(self, request: Request, name: str, key: str) -> Response:
        table = self.app.tables.tables.get(name)
        if table is None:
            return self.notfound(f"no table {name!r}")
        try:
            value = coerce_key(key, table.schema.key_type)
        except MalformedKey as exc:
            return self.error(400, str(exc))
        return _lookup(self, lambda: self.app.router.key_store(name, value))


@hookimpl
def strm_web_routes(app: App) -> list[WebRoute]:
    """``/router/``, served by every worker's web server (a built-in plugin, ``web_router``,
    so ``--plugin no:web_router`` leaves it out)."""
    return blueprint.web_routes("/router/")


__all__ = [
    "MalformedKey",
    "RouteKey",
    "blueprint",
    "coerce_key",
    "strm_web_routes",
    "table_route",
    "topic_route",
    "unavailable",
]
