"""The request a view receives and the response it returns, independent of any web driver.

Drivers translate their own request into :class:`Request` and :class:`Response` back into
theirs, so views, the routing of table keys and the operator endpoints are written once, in
the kernel, and run on whichever driver plugin serves them.
"""

from __future__ import annotations

import json as _json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from strm.web.exceptions import ParseError

#: Reads the whole body once; the driver enforces the size limit while reading.
BodyReader = Callable[[], Awaitable[bytes]]


class MultiMapping(Mapping[str, str]):
    """A read-only mapping where a key may repeat (``?tag=a&tag=b``): ``m['tag']`` is the first
    value, ``m.getall('tag')`` every one."""

    def __init__(self, items: Iterable[tuple[str, str]] = (), *, fold_case: bool = False):
        self._fold = fold_case
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in items]

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def getall(self, key: str, default: list[str] | None = None) -> list[str]:
        wanted = self._key(key)
        found = [v for k, v in self._items if self._key(k) == wanted]
        if not found and default is not None:
            return default
        return found

    def getone(self, key: str) -> str:
        return self[key]

    def items_all(self) -> list[tuple[str, str]]:
        """Every pair, repeats included, in order."""
        return list(self._items)

    def __getitem__(self, key: str) -> str:
        wanted = self._key(key)
        for k, v in self._items:
            if self._key(k) == wanted:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._items:
            if self._key(k) not in seen:
                seen.add(self._key(k))
                yield k

    def __len__(self) -> int:
        return len({self._key(k) for k, _ in self._items})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class Headers(MultiMapping):
    """HTTP headers: names compare without case, as HTTP says."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(items, fold_case=True)


class Request:
    """One HTTP request as a view sees it.

    ``match_info`` holds the path's ``{placeholders}``; ``query`` and ``headers`` are read-only
    mappings (``getall`` for repeated names). The body is read on demand, once, so a view that
    never reads it costs nothing and one that reads it twice gets the same bytes.
    """

    def __init__(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | BodyReader = b"",
        match_info: Mapping[str, str] | None = None,
        raw_path: str | None = None,
        remote: str | None = None,
        scheme: str = "http",
        host: str = "",
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.raw_path = path if raw_path is None else raw_path
        self.query: Mapping[str, str] = MultiMapping() if query is None else query
        self.headers: Mapping[str, str] = Headers() if headers is None else headers
        self.match_info: dict[str, str] = dict(match_info or {})
        self.remote = remote
        self.scheme = scheme
        self.host = host
        self._body: bytes | None = body if isinstance(body, bytes) else None
        self._reader: BodyReader | None = None if isinstance(body, bytes) else body

    @property
    def url(self) -> str:
        """The request's URL as the client wrote it (scheme, host, path and query)."""
        return f"{self.scheme}://{self.host}{self.raw_path}"

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"')
        return None

    async def read(self) -> bytes:
        """The body's bytes (a body over the size limit answers 413)."""
        if self._body is None:
            assert self._reader is not None
            self._body = await self._reader()
            self._reader = None
        return self._body

    async def text(self) -> str:
        """The body decoded with its charset (UTF-8 when none is given); 400 if it cannot be."""
        data = await self.read()
        charset = self.charset or "utf-8"
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(f"the request body is not valid {charset} text: {exc}") from None

    async def json(self) -> Any:
        """The body parsed as JSON; 400 with the parser's reason if it is not JSON."""
        text = await self.text()
        try:
            return _json.loads(text)
        except ValueError as exc:
            raise ParseError(f"the request body is not valid JSON: {exc}") from None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.raw_path}>"


@dataclass
class Response:
    """What a view returns: a status, a body of bytes, headers and a content type."""

    status: int = 200
    body: bytes = b""
    headers: MutableMapping[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"
    charset: str | None = None
    reason: str | None = None

    @property
    def content_length(self) -> int:
        return len(self.body)

    @property
    def body_length(self) -> int:
        return len(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", errors="replace")

    def content_type_header(self) -> str:
        """The Content-Type header's value, with the charset for text."""
        if self.charset:
            return f"{self.content_type}; charset={self.charset}"
        return self.content_type


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return dict(headers) if headers else {}


def json_response(
    value: Any,
    *,
    status: int = 200,
    content_type: str | None = None,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = _json.dumps(value, default=_json_default).encode("utf-8")
    return Response(
        status,
        body,
        _headers(headers),
        content_type or "application/json",
        charset="utf-8",
        reason=reason,
    )


def text_response(
    value: str,
    *,
    status: int = 200,
    content_type: str | None = None,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        status,
        value.encode("utf-8"),
        _headers(headers),
        content_type or "text/plain",
        charset="utf-8",
        reason=reason,
    )


def html_response(
    value: str,
    *,
    status: int = 200,
    content_type: str | None = None,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return text_response(
        value,
        status=status,
        content_type=content_type or "text/html",
        reason=reason,
        headers=headers,
    )


def bytes_response(
    value: bytes,
    *,
    status: int = 200,
    content_type: str | None = None,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        status,
        bytes(value),
        _headers(headers),
        content_type or "application/octet-stream",
        reason=reason,
    )


def _json_default(value: Any) -> Any:
    """Models, sets and other values views commonly return, as JSON knows them."""
    to_representation = getattr(value, "to_representation", None)
    if callable(to_representation):
        return to_representation()
    asdict = getattr(value, "asdict", None)
    if callable(asdict):
        return asdict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


__all__ = [
    "BodyReader",
    "Headers",
    "MultiMapping",
    "Request",
    "Response",
    "bytes_response",
    "html_response",
    "json_response",
    "text_response",
]
