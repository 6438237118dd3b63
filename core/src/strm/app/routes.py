"""An app's web pages and cluster routing: ``@app.page``, ``@app.table_route``,
``@app.topic_route`` and the HTTP client's life cycle (:class:`strm.app.App`)."""

from __future__ import annotations

import asyncio
from collections.abc import (
    Awaitable,
    Callable,
    Mapping,
)
from typing import TYPE_CHECKING, Any

from strm.channels import Topic
from strm.tables.table import Collection
from strm.web.cors import ResourceOptions
from strm.web.views import View

if TYPE_CHECKING:
    from strm.app import App


def page(
    self: App,
    path: str,
    *,
    base: type[View] = View,
    cors_options: Mapping[str, ResourceOptions] | None = None,
    name: str | None = None,
) -> Callable[[Any], type[View]]:
    """``@app.page('/orders/{id}/')`` on an ``async def get(self, request, id)`` handler or
    a :class:`strm.web.View` subclass: serve it at ``path`` (see :mod:`strm.web`). Returns
    the View class; ``cors_options`` by origin take precedence over ``web_cors_options``."""
    return self.web.page(path, base=base, cors_options=cors_options, name=name)


async def close_http_client(self: App) -> None:
    """Close ``app.http_client`` if it was made; the next use makes a new one."""
    client, self._http_client = self._http_client, None
    close = getattr(client, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


def table_route(
    self: App,
    table: Collection | str,
    shard_param: str | None = None,
    *,
    query_param: str | None = None,
    match_info: str | None = None,
    exact_key: str | None = None,
    standby_ok: bool = False,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Decorate a view method or page handler so that a request for a key of ``table``
    (from the query parameter ``query_param``, the path's ``{match_info}``, or always
    ``exact_key``) is answered by the worker that holds the key: here, or forwarded
    (see :mod:`strm.web.routing`). ``standby_ok=True`` lets a worker keeping a standby
    copy of the key's partition answer from it, as fresh as the owner's last
    checkpoint."""
    from strm.web.routing import table_route

    return table_route(
        self,
        table,
        shard_param,
        query_param=query_param,
        match_info=match_info,
        exact_key=exact_key,
        standby_ok=standby_ok,
    )


def topic_route(
    self: App,
    topic: Topic | str,
    shard_param: str | None = None,
    *,
    query_param: str | None = None,
    match_info: str | None = None,
    exact_key: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """As :meth:`table_route`, for the worker consuming the partition of ``topic`` that
    the key is sent to."""
    from strm.web.routing import topic_route

    return topic_route(
        self,
        topic,
        shard_param,
        query_param=query_param,
        match_info=match_info,
        exact_key=exact_key,
    )
