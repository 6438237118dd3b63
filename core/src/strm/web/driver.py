"""What a web driver plugin provides, and how the kernel runs one on a thread of its own.

A driver (``strm_web_drivers``, picked by the ``web`` setting's scheme) is a factory called as
``factory(context=...)``, the context a :class:`strm.kernel.contexts.WebContext`; it returns an
object with ``async start()`` (listen, or raise :class:`strm.web.WebServerError` in one line),
``async stop()`` and ``addresses``, where it listens. For every request it builds a
:class:`strm.web.Request` and awaits ``context.handle(request)``; routing, CORS, errors and the
operator endpoints are the kernel's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, runtime_checkable

from strm.web.exceptions import WebServerError

#: How long starting or stopping a server on its own thread may take.
THREAD_TIMEOUT = 30.0


@runtime_checkable
class WebDriver(Protocol):
    """A running (or startable) HTTP server serving ``web.handle``."""

    addresses: list[str]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ThreadedDriver:
    """Runs a driver on its own thread and event loop (``web_in_thread=True``): requests are
    answered even while the app's loop is busy, and views run on the web thread's loop."""

    def __init__(self, make: Callable[[], WebDriver], name: str) -> None:
        self._make = make
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._driver: WebDriver | None = None
        self.addresses: list[str] = []

    async def start(self) -> None:
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name=self._name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wait_for(asyncio.wrap_future(started), THREAD_TIMEOUT)
        except TimeoutError:
            raise WebServerError(
                f"the web server's thread did not start within {THREAD_TIMEOUT:g} s"
            ) from None
        except BaseException:
            self._thread.join(THREAD_TIMEOUT)
            raise
        assert self._driver is not None
        self.addresses = list(self._driver.addresses)

    def _run(self, started: Future[None]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            driver = self._driver = self._make()
            loop.run_until_complete(driver.start())
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def stop(self) -> None:
        loop, driver, thread = self._loop, self._driver, self._thread
        if loop is None or driver is None or thread is None or loop.is_closed():
            return
        stopping = asyncio.run_coroutine_threadsafe(driver.stop(), loop)
        try:
            await asyncio.wait_for(asyncio.wrap_future(stopping), THREAD_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, THREAD_TIMEOUT)


__all__ = ["THREAD_TIMEOUT", "ThreadedDriver", "WebDriver"]
