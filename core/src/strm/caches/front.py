"""``app.cache``: the backend the ``cache`` setting picks, behind one outage policy.

A cache is an optimisation, so a cache server going away must not take answers with it. Every
backend reports an outage the same way (:class:`strm.kernel.spi.CacheUnavailable`); this front turns
it into a miss (``get`` returns ``None``, ``set`` and ``delete`` do nothing), logs one WARNING
when the outage starts and one INFO line when the backend answers again, and while it is down
asks the backend at most once per ``retry_interval`` so that callers do not each wait for a
refused or timed-out connection. The policy lives here, in the kernel, so that every backend
plugin gets the same behaviour without writing it.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from strm.caches.view import ViewCache
from strm.kernel.redaction import redact_url
from strm.kernel.spi import Cache, CacheUnavailable

logger = logging.getLogger("strm.cache")

T = TypeVar("T")

#: Seconds between two attempts to reach a backend that is down.
RETRY_INTERVAL = 1.0


class AppCache:
    """A :class:`strm.kernel.spi.Cache` that never raises :class:`CacheUnavailable` (see the
    module)."""

    #: Faust's name for the error a backend raises when it is unreachable; never raised here.
    Unavailable = CacheUnavailable

    def __init__(
        self,
        backend: Cache,
        *,
        url: str = "",
        owner: str = "",
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        #: The backend's URL without its password, for log lines.
        self.url = redact_url(url) if url else type(backend).__name__
        self.owner = owner
        self.retry_interval = retry_interval
        self._clock = clock
        #: When the current outage's last failed attempt was, or None while the backend answers.
        self._failed_at: float | None = None

    @property
    def available(self) -> bool:
        """False from a failed call until the backend answers again."""
        return self._failed_at is None

    async def get(self, key: str) -> bytes | None:
        return await self._call(self.backend.get(key), None)

    async def set(self, key: str, value: bytes, timeout: float | timedelta | None = None) -> None:
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        await self._call(self.backend.set(key, value, seconds), None)

    async def delete(self, key: str) -> None:
        await self._call(self.backend.delete(key), None)

    async def close(self) -> None:
        """Close the backend's connections, if it has any (it reconnects on its next use)."""
        close = getattr(self.backend, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result

    def view(
        self,
        timeout: float | timedelta | None = None,
        include_headers: bool = False,
        key_prefix: str | None = None,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Cache a view handler's 200 responses in this cache (see :class:`ViewCache`)."""
        cache = ViewCache(backend=self)
        return cache.view(
            timeout=timeout, include_headers=include_headers, key_prefix=key_prefix, **kwargs
        )

    async def _call(self, call: Awaitable[T], missed: T) -> T:
        if self._failed_at is not None and self._clock() - self._failed_at < self.retry_interval:
            # Down and retried recently: answer at once rather than wait on the backend again.
            if inspect.iscoroutine(call):
                call.close()
            return missed
        try:
            result = await call
        except CacheUnavailable as exc:
            if self._failed_at is None:
                logger.warning(
                    "%scache %s is unavailable (%s); serving without it until it is back",
                    self._prefix(),
                    self.url,
                    redact_url(str(exc) or type(exc).__name__),
                )
            self._failed_at = self._clock()
            return missed
        if self._failed_at is not None:
            self._failed_at = None
            logger.info("%scache %s is back", self._prefix(), self.url)
        return result

    def _prefix(self) -> str:
        return f"app {self.owner!r}: " if self.owner else ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
