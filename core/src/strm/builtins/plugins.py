"""The plugins strm ships: registered by the same loader as third-party ones.

Essential plugins cannot be blocked with ``--plugin no:NAME``; the defaults can, and a third-party
plugin's provision of the same name replaces a default's.
"""

from __future__ import annotations

ESSENTIAL_PLUGINS: dict[str, str] = {
    "default_classes": "strm.builtins.default_classes",
}

DEFAULT_PLUGINS: dict[str, str] = {
    "codecs": "strm.builtins.codecs",
    "memory_store": "strm.builtins.memory_store",
    "memory_cache": "strm.builtins.memory_cache",
    "memory_transport": "strm.builtins.memory_transport",
    "partitioners": "strm.builtins.partitioners",
    "supervisors": "strm.builtins.supervisors",
    "schedulers": "strm.builtins.scheduling",
    "web_router": "strm.web.routing",
    "dashboard": "strm.web.apps.dashboard",
}

BUILTIN_PLUGINS: dict[str, str] = {**ESSENTIAL_PLUGINS, **DEFAULT_PLUGINS}
