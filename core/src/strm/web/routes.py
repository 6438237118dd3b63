"""The app's routes: path patterns with ``{placeholders}`` and the view each one serves.

``@app.page`` and blueprints add routes at import time, before any server exists; the web
server reads the table when it starts. Patterns are aiohttp's (and so Faust's): ``{name}`` is
one path segment, ``{name:regex}`` a segment matching ``regex``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from strm.kernel.errors import ConfigurationError
from strm.web.cors import ResourceOptions, coerce_options
from strm.web.views import View

_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<regex>[^{}]+))?\}")


@dataclass(frozen=True)
class WebRoute:
    """One route: ``path`` (a pattern), the View class serving it, its name and its CORS
    options by origin. What :func:`strm.kernel.hookspecs.strm_web_routes` returns, too."""

    path: str
    view: type[View]
    name: str = ""
    cors_options: Mapping[str, ResourceOptions] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ConfigurationError(f"route {self.path!r}: a path starts with '/'")
        if not (isinstance(self.view, type) and issubclass(self.view, View)):
            raise ConfigurationError(f"route {self.path!r}: {self.view!r} is not a View class")
        object.__setattr__(self, "cors_options", coerce_options(self.cors_options))
        if not self.name:
            object.__setattr__(self, "name", self.view.__name__)

    @property
    def pattern(self) -> re.Pattern[str]:
        return compile_path(self.path)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()

    def format(self, **values: Any) -> str:
        """The path with its placeholders filled in."""

        def fill(found: re.Match[str]) -> str:
            name = found.group("name")
            if name not in values:
                raise KeyError(f"route {self.name!r} needs {name!r}")
            return str(values[name])

        return _PLACEHOLDER.sub(fill, self.path)


def compile_path(path: str) -> re.Pattern[str]:
    out: list[str] = []
    last = 0
    for found in _PLACEHOLDER.finditer(path):
        out.append(re.escape(path[last : found.start()]))
        regex = found.group("regex") or "[^/]+"
        out.append(f"(?P<{found.group('name')}>{regex})")
        last = found.end()
    out.append(re.escape(path[last:]))
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise ConfigurationError(f"route {path!r}: bad pattern: {exc}") from None


class RouteTable:
    """Routes by path, in the order added; the first whose pattern matches serves a path."""

    def __init__(self, routes: Mapping[str, WebRoute] | None = None) -> None:
        self._routes: dict[str, WebRoute] = dict(routes or {})

    def add(self, route: WebRoute) -> WebRoute:
        existing = self._routes.get(route.path)
        if existing is not None and existing.view is not route.view:
            raise ConfigurationError(
                f"two views for the path {route.path!r}: {existing.view.__name__} and "
                f"{route.view.__name__}"
            )
        self._routes[route.path] = route
        return route

    def has_path(self, path: str) -> bool:
        return path in self._routes

    def find(self, path: str) -> tuple[WebRoute, dict[str, str]] | None:
        for route in self._routes.values():
            match_info = route.match(path)
            if match_info is not None:
                return route, match_info
        return None

    def by_name(self, name: str) -> WebRoute:
        for route in self._routes.values():
            if route.name == name:
                return route
        raise KeyError(f"no route named {name!r}")

    def copy(self) -> RouteTable:
        return RouteTable(self._routes)

    def __iter__(self) -> Iterator[WebRoute]:
        return iter(list(self._routes.values()))

    def __len__(self) -> int:
        return len(self._routes)

    def __contains__(self, path: object) -> bool:
        return path in self._routes


__all__ = ["RouteTable", "WebRoute", "compile_path"]
