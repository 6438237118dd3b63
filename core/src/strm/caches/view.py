"""Caching of web view responses: Faust's ``cache.view()`` decorator.

``@app.cache.view(timeout=60)`` (or a blueprint's ``cache(...)``) wraps a view handler
``async def get(self, request, **kwargs)``: a request whose key is in the cache is answered from
it without running the handler; otherwise the handler runs and a 200 response is stored. The key
is the method, the path and the query (and, with ``include_headers=True``, the request's
headers), hashed, under a prefix, so that keys are short and safe on any backend.

The response goes in as bytes through the view's ``response_to_bytes`` and comes out through
its ``bytes_to_response`` (Faust's ``View`` methods) when the view has them, else through
:mod:`strm.caches.responses`. A cache that is unavailable only costs the hit: the handler runs.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

from strm.caches import responses
from strm.kernel.spi import Cache, CacheUnavailable

logger = logging.getLogger("strm.cache")

#: The first part of every view key (Faust's is ``faustweb.cache.view``).
IDENT = "strm.cache.view"

Handler = Callable[..., Awaitable[Any]]


class CacheableRequest(Protocol):
    """What the key of a request is made of."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]


class ViewCache:
    """Caches the responses of the view handlers it decorates (Faust's ``faust.web.Cache``).

    ``backend`` is a :class:`strm.kernel.spi.Cache`, a cache URL (``redis://host``, made through the
    view's app's plugins on first use), or ``None`` for the view's ``app.cache``.
    """

    ident: ClassVar[str] = IDENT

    def __init__(
        self,
        timeout: float | timedelta | None = None,
        include_headers: bool = False,
        key_prefix: str | None = None,
        backend: Cache | str | None = None,
        **kwargs: Any,
    ) -> None:
        _refuse_options("Cache", kwargs)
        self.timeout = timeout
        self.include_headers = include_headers
        self.key_prefix = key_prefix or ""
        self.backend = backend
        self._url_backends: weakref.WeakKeyDictionary[Any, Cache] = weakref.WeakKeyDictionary()

    def view(
        self,
        timeout: float | timedelta | None = None,
        include_headers: bool = False,
        key_prefix: str | None = None,
        **kwargs: Any,
    ) -> Callable[[Handler], Handler]:
        """Decorate ``async def get(self, request, **kwargs)`` to answer from the cache.

        ``timeout`` (seconds or a timedelta) overrides the cache's; ``None`` for both keeps a
        response until it is replaced. ``key_prefix`` overrides the cache's prefix.
        ``include_headers`` makes requests that differ only in a header cached apart (it adds
        to the cache's own ``include_headers``, never turns it off).
        """
        _refuse_options("view", kwargs)
        with_headers = include_headers or self.include_headers

        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def cached(view: Any, request: Any, *args: Any, **kw: Any) -> Any:
                method = str(request.method).upper()
                key: str | None = None
                if self.can_cache_request(request):
                    key = self.key_for_request(request, key_prefix, method, with_headers)
                    # A HEAD is answered by the GET's response when there is one, as Faust
                    # does: the server leaves the body out.
                    lookups = [key]
                    if method == "HEAD":
                        get_key = self.key_for_request(request, key_prefix, "GET", with_headers)
                        lookups.insert(0, get_key)
                    for lookup in lookups:
                        hit = await self.get_view(lookup, view)
                        if hit is not None:
                            logger.debug("cache hit for %s %s", method, request.path)
                            return hit
                response = await handler(view, request, *args, **kw)
                if key is not None and self.can_cache_response(request, response):
                    await self.set_view(key, view, response, timeout)
                return response

            return cached

        return decorate

    # -- the steps, as Faust names them (each one a place to override) --------------------------

    async def get_view(self, key: str, view: Any) -> Any | None:
        """The cached response under ``key``, or None (missing, unreadable or unavailable)."""
        backend = self._view_backend(view)
        try:
            payload = await backend.get(key)
        except CacheUnavailable:
            return None
        if payload is None:
            return None
        try:
            decode = getattr(view, "bytes_to_response", None)
            return decode(payload) if decode is not None else responses.bytes_to_response(payload)
        except responses.NotACachedResponse as exc:
            logger.warning("cache value under %r is not a cached response (%s): ignored", key, exc)
            return None

    async def set_view(
        self,
        key: str,
        view: Any,
        response: Any,
        timeout: float | timedelta | None = None,
    ) -> None:
        """Store ``response`` under ``key`` for ``timeout`` (else the cache's timeout)."""
        backend = self._view_backend(view)
        chosen = timeout if timeout is not None else self.timeout
        seconds = chosen.total_seconds() if isinstance(chosen, timedelta) else chosen
        encode = getattr(view, "response_to_bytes", None)
        payload = encode(response) if encode is not None else responses.response_to_bytes(response)
        try:
            await backend.set(key, payload, seconds)
        except CacheUnavailable:
            return

    def can_cache_request(self, request: Any) -> bool:
        """Whether to look this request up at all (every request, by default, as in Faust)."""
        return True

    def can_cache_response(self, request: Any, response: Any) -> bool:
        """200s only, and not one that sets a cookie: that one belongs to one client."""
        if getattr(response, "status", None) != 200:
            return False
        headers = getattr(response, "headers", None) or {}
        return "set-cookie" not in responses.header_names(headers)

    def key_for_request(
        self,
        request: Any,
        prefix: str | None = None,
        method: str | None = None,
        include_headers: bool = False,
    ) -> str:
        """The cache key of ``request`` (its own method unless ``method`` is given)."""
        actual = str(request.method if method is None else method).upper()
        headers: Mapping[str, str] = request.headers if include_headers else {}
        return self.build_key(
            request, actual, self.key_prefix if prefix is None else prefix, headers
        )

    def build_key(self, request: Any, method: str, prefix: str, headers: Mapping[str, str]) -> str:
        """``strm.cache.view.<prefix>.<method>.<hash of path and query>.<hash of headers>``."""
        target = str(request.path)
        query = _pairs(request.query)
        if query:
            target += "?" + urlencode(query)
        context = "\n".join(f"{name.lower()}:{value}" for name, value in sorted(_pairs(headers)))
        return ".".join([self.ident, prefix, method, _digest(target), _digest(context)])

    def _view_backend(self, view: Any) -> Cache:
        backend = self.backend
        if backend is None:
            return view.app.cache  # type: ignore[no-any-return]
        if isinstance(backend, str):
            app = view.app
            made = self._url_backends.get(app)
            if made is None:
                made = app.make_cache(backend)
                self._url_backends[app] = made
            return made
        return backend

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} timeout={self.timeout!r} prefix={self.key_prefix!r} "
            f"include_headers={self.include_headers}>"
        )


def _pairs(mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    items: Iterable[tuple[str, str]] = (
        mapping.items_all() if hasattr(mapping, "items_all") else mapping.items()
    )
    return [(str(k), str(v)) for k, v in items]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _refuse_options(where: str, kwargs: Mapping[str, Any]) -> None:
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise TypeError(f"{where}(): strm's view cache does not support {names} yet")
