"""Cross-origin resource sharing: which other sites' pages may call a view from a browser.

Options are given per origin (``{'https://shop.example': ResourceOptions(...)}``, ``'*'`` for
any origin), for every view by the ``web_cors_options`` setting and per view by
``@app.page(..., cors_options=...)``, whose origins take precedence. The names are those of
aiohttp-cors, which Faust's options are. Handled in the kernel so every driver answers
preflights the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

from strm.web.http import Request, Response


class ResourceOptions(NamedTuple):
    """What one origin may do. ``allow_methods`` ``None`` or ``'*'`` means the view's own
    verbs; ``allow_headers``/``expose_headers`` ``'*'`` means any."""

    allow_credentials: bool = False
    expose_headers: Collection[str] | str = ()
    allow_headers: Collection[str] | str = ()
    max_age: int | None = None
    allow_methods: Collection[str] | str | None = None


CorsMap = Mapping[str, ResourceOptions]


def coerce_options(options: Mapping[str, Any] | None) -> dict[str, ResourceOptions]:
    """Options by origin, each a :class:`ResourceOptions` or a mapping of its fields (as the
    setting holds them when it comes from the environment as JSON)."""
    out: dict[str, ResourceOptions] = {}
    for origin, value in (options or {}).items():
        if isinstance(value, ResourceOptions):
            out[str(origin)] = value
        elif isinstance(value, Mapping):
            unknown = set(value) - set(ResourceOptions._fields)
            if unknown:
                raise ValueError(
                    f"CORS options of {origin!r}: unknown field(s) {sorted(unknown)}; "
                    f"expected {list(ResourceOptions._fields)}"
                )
            out[str(origin)] = ResourceOptions(**value)
        elif isinstance(value, tuple):
            out[str(origin)] = ResourceOptions(*value)
        else:
            raise ValueError(
                f"CORS options of {origin!r} must be strm.web.ResourceOptions or a mapping, "
                f"not {type(value).__name__}"
            )
    return out


def merged(global_options: CorsMap, view_options: CorsMap) -> dict[str, ResourceOptions]:
    return {**global_options, **view_options}


def options_for(origin: str, options: CorsMap) -> ResourceOptions | None:
    return options.get(origin) or options.get("*")


def is_preflight(request: Request) -> bool:
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def _names(value: Collection[str] | str) -> set[str]:
    if isinstance(value, str):
        return {value}
    return set(value)


def _is_any(value: Collection[str] | str | None) -> bool:
    return value is None or value == "*" or (not isinstance(value, str) and "*" in value)


def preflight(request: Request, options: CorsMap, view_methods: Iterable[str]) -> Response:
    """The answer to a browser's OPTIONS preflight: 200 with what is allowed, or 403."""
    origin = request.headers["Origin"]
    found = options_for(origin, options)
    if found is None:
        return _forbidden(f"origin {origin!r} is not allowed")
    method = request.headers["Access-Control-Request-Method"].upper()
    methods = {m.upper() for m in view_methods}
    if not _is_any(found.allow_methods):
        assert found.allow_methods is not None
        methods &= {m.upper() for m in _names(found.allow_methods)}
    if method not in methods:
        return _forbidden(f"method {method} is not allowed from {origin!r}")
    asked = [
        h.strip().lower()
        for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
        if h.strip()
    ]
    if found.allow_headers != "*":
        allowed = {h.lower() for h in _names(found.allow_headers)}
        refused = [h for h in asked if h not in allowed]
        if refused:
            return _forbidden(f"header(s) {refused} are not allowed from {origin!r}")
    headers = _origin_headers(origin, options, found)
    headers["Access-Control-Allow-Methods"] = method
    if asked:
        headers["Access-Control-Allow-Headers"] = ",".join(asked)
    if found.max_age is not None:
        headers["Access-Control-Max-Age"] = str(found.max_age)
    return Response(200, b"", headers, "text/plain")


def decorate(request: Request, response: Response, options: CorsMap) -> Response:
    """Add the headers that let the requesting origin's page read an actual response."""
    origin = request.headers.get("Origin")
    if not origin:
        return response
    found = options_for(origin, options)
    if found is None:
        return response
    response.headers.update(_origin_headers(origin, options, found))
    exposed = found.expose_headers
    if exposed == "*":
        names = [h for h in response.headers if not h.lower().startswith("access-control-")]
        exposed = names
    if exposed:
        response.headers["Access-Control-Expose-Headers"] = ",".join(sorted(_names(exposed)))
    return response


def _origin_headers(origin: str, options: CorsMap, found: ResourceOptions) -> dict[str, str]:
    # A '*' entry without credentials may answer '*'; otherwise the origin itself, and the
    # response then varies by Origin for caches.
    if origin not in options and not found.allow_credentials:
        return {"Access-Control-Allow-Origin": "*"}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if found.allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def _forbidden(reason: str) -> Response:
    import json

    body = json.dumps({"error": f"CORS preflight refused: {reason}"}).encode()
    return Response(403, body, {}, "application/json", charset="utf-8")


__all__ = ["ResourceOptions", "coerce_options", "decorate", "is_preflight", "preflight"]
