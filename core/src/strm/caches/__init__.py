"""Caches: ``app.cache``'s outage policy (front), view caching (view, responses) and the
built-in memory backend; other backends come from plugins (docs/caches.md)."""

from strm.caches.front import AppCache
from strm.caches.view import ViewCache

__all__ = ["AppCache", "ViewCache"]
