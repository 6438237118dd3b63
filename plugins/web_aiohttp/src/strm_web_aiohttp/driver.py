"""The aiohttp driver: one catch-all route that hands every request to the kernel.

Matching, CORS and errors are the kernel's (``context.handle``, the app's ``web.handle``), so a
view behaves the same on any driver; this module only translates requests and responses and
enforces the body limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web as aioweb
from strm.web import Headers, MultiMapping, PayloadTooLarge, Request, Response, json_response

from strm_web_aiohttp.transports import Listener

if TYPE_CHECKING:
    from strm.kernel.contexts import WebContext


class AiohttpDriver:
    """``web='aiohttp://'``: an aiohttp server on the ``web_transport``'s listener."""

    def __init__(self, *, context: WebContext, **_: Any) -> None:
        self.context = context
        self.max_body_size: int = context.conf.web_max_body_size
        self.addresses: list[str] = []
        self._runner: aioweb.AppRunner | None = None
        self._listener: Listener | None = None

    async def start(self) -> None:
        application = aioweb.Application(client_max_size=self.max_body_size)
        application.router.add_route("*", "/{tail:.*}", self._serve)
        runner = aioweb.AppRunner(application, handle_signals=False)
        await runner.setup()
        try:
            make = self.context.listener_factory()
            url = self.context.conf.web_transport
            listener: Listener = make(runner=runner, context=self.context, url=url)
            await listener.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner, self._listener = runner, listener
        self.addresses = [listener.address]

    async def stop(self) -> None:
        runner, listener = self._runner, self._listener
        self._runner = self._listener = None
        if runner is not None:
            await runner.cleanup()
        if listener is not None:
            listener.cleanup()

    async def _serve(self, request: aioweb.Request) -> aioweb.StreamResponse:
        length = request.content_length
        if length is not None and length > self.max_body_size:
            return _to_aiohttp(_too_large(self.max_body_size))
        response = await self.context.handle(self._request(request))
        return _to_aiohttp(response)

    def _request(self, request: aioweb.Request) -> Request:
        limit = self.max_body_size

        async def read() -> bytes:
            try:
                return await request.read()
            except aioweb.HTTPRequestEntityTooLarge:
                raise PayloadTooLarge(
                    f"the request body is larger than {limit} bytes", limit=limit
                ) from None

        return Request(
            request.method,
            request.path,
            query=MultiMapping(request.query.items()),
            headers=Headers(request.headers.items()),
            body=read,
            raw_path=request.raw_path,
            remote=request.remote,
            scheme=request.scheme,
            host=request.host,
        )


def _too_large(limit: int) -> Response:
    return json_response(
        {"error": f"the request body is larger than {limit} bytes", "limit": limit}, status=413
    )


def _to_aiohttp(response: Response) -> aioweb.Response:
    headers: Mapping[str, str] = {
        **response.headers,
        "Content-Type": response.content_type_header(),
    }
    return aioweb.Response(
        status=response.status, reason=response.reason, body=response.body, headers=headers
    )
