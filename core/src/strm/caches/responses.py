"""HTTP responses as cache values: bytes in a backend, a response object again on a hit.

The cache stores what a client sees — status, body, headers, content type, charset and reason —
and nothing of the web driver's own response type, so a value written by one worker is read by
any other, whichever driver serves it. The format is one line of JSON for the fields, a newline,
then the body's bytes as they are (no base64 inflation of large bodies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The first line of every value, so that a foreign value under a view's key is a miss.
MAGIC = b"strm-cached-response/1\n"


class ResponseLike(Protocol):
    """What a cached view returns: the fields of strm's web ``Response``."""

    status: int
    body: bytes
    headers: Any
    content_type: str


@dataclass
class CachedResponse:
    """A response rebuilt from the cache, for views that bring no ``bytes_to_response``."""

    status: int = 200
    body: bytes = b""
    headers: MutableMapping[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"
    charset: str | None = None
    reason: str | None = None


#: Builds a response from the cached fields, as keyword arguments.
ResponseFactory = Callable[..., Any]


class NotACachedResponse(ValueError):
    """The bytes under a view's key are not a response this module wrote."""


def response_to_bytes(response: ResponseLike) -> bytes:
    """The response's fields as one cache value."""
    headers = response.headers
    pairs = headers.items_all() if hasattr(headers, "items_all") else list(headers.items())
    fields = {
        "status": int(response.status),
        "headers": [[str(k), str(v)] for k, v in pairs],
        "content_type": response.content_type,
        "charset": getattr(response, "charset", None),
        "reason": getattr(response, "reason", None),
    }
    return MAGIC + json.dumps(fields, separators=(",", ":")).encode() + b"\n" + bytes(response.body)


def bytes_to_response(payload: bytes, factory: ResponseFactory = CachedResponse) -> Any:
    """The response a value of :func:`response_to_bytes` holds, built by ``factory``.

    Raises :class:`NotACachedResponse` for anything else (a value of another program, a
    truncated one), which the view cache treats as a miss.
    """
    if not payload.startswith(MAGIC):
        raise NotACachedResponse("no strm response header")
    meta, newline, body = payload[len(MAGIC) :].partition(b"\n")
    if not newline:
        raise NotACachedResponse("truncated")
    try:
        fields = json.loads(meta)
        headers = _headers(fields["headers"])
        return factory(
            status=int(fields["status"]),
            body=body,
            headers=headers,
            content_type=str(fields["content_type"]),
            charset=fields.get("charset"),
            reason=fields.get("reason"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise NotACachedResponse(str(exc)) from exc


def _headers(pairs: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        # A repeated header (Vary, Link) folds into one comma-separated value, as HTTP allows.
        headers[name] = f"{headers[name]}, {value}" if name in headers else str(value)
    return headers


def header_names(headers: Mapping[str, str]) -> set[str]:
    return {name.lower() for name in headers}
