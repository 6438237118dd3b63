"""The plugins strm ships: registered by the same loader as third-party ones.

Essential plugins cannot be blocked with ``--plugin no:NAME``; the defaults can, and a third-party
plugin's provision of the same name replaces a default's.
"""

from __future__ import annotations

ESSENTIAL_PLUGINS: dict[str, str] = {
    "default_classes": "strm.default_classes",
}

DEFAULT_PLUGINS: dict[str, str] = {
    "codecs": "strm.codecs.builtin",
    "memory_store": "strm.stores.memory",
    "memory_cache": "strm.caches.memory",
    "memory_transport": "strm.transports.memory",
    "partitioners": "strm.transports.partitioners",
    "supervisors": "strm.agents.supervisors",
    "schedulers": "strm.transports.scheduling",
    "web_router": "strm.web.routing",
    "dashboard": "strm.web.apps.dashboard",
}

BUILTIN_PLUGINS: dict[str, str] = {**ESSENTIAL_PLUGINS, **DEFAULT_PLUGINS}
