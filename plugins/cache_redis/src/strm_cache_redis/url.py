"""What a ``redis://`` or ``rediscluster://`` cache URL says, checked before any connection.

``redis://[[user]:password@]host[:port][/db][?option=value&...]``. A mistake (a db that is not
a number, an option strm does not know, a db on a cluster) is an error naming the URL without
its password, raised when the app is configured, not at the first cache call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from strm.kernel.errors import ConfigurationError
from strm.kernel.redaction import redact_url

SCHEMES = ("redis", "rediscluster")
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6379

#: Options a URL's query may set (Faust's names): option -> (redis-py argument, type).
OPTIONS: Mapping[str, tuple[str, type]] = {
    "connect_timeout": ("socket_connect_timeout", float),
    "stream_timeout": ("socket_timeout", float),
    "max_connections": ("max_connections", int),
}


@dataclass(frozen=True)
class RedisURL:
    scheme: str
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    #: redis-py's arguments for the query's options.
    options: Mapping[str, Any]

    @property
    def cluster(self) -> bool:
        return self.scheme == "rediscluster"

    @property
    def safe(self) -> str:
        """The URL to show: no password."""
        auth = ""
        if self.username or self.password:
            auth = f"{self.username or ''}{':***' if self.password else ''}@"
        return f"{self.scheme}://{auth}{self.host}:{self.port}/{self.db}"


def parse(url: str) -> RedisURL:
    """The parts of ``url``; :class:`ConfigurationError` for one strm cannot honour."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"cache {shown!r}: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise ConfigurationError(f"cache {shown!r}: the scheme must be redis:// or rediscluster://")
    if parts.fragment:
        raise ConfigurationError(f"cache {shown!r}: a Redis URL has no #fragment")
    db = _db(parts.path, shown)
    if parts.scheme == "rediscluster" and db != 0:
        raise ConfigurationError(
            f"cache {shown!r}: Redis Cluster has database 0 only; leave the path out"
        )
    return RedisURL(
        scheme=parts.scheme,
        host=parts.hostname or DEFAULT_HOST,
        port=port or DEFAULT_PORT,
        db=db,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        options=_options(parts.query, shown),
    )


def _db(path: str, shown: str) -> int:
    text = path.strip("/")
    if not text:
        return 0
    if not text.isdigit():
        raise ConfigurationError(
            f"cache {shown!r}: the path is the database number (redis://host:6379/0), not {path!r}"
        )
    return int(text)


def _options(query: str, shown: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in OPTIONS:
            known = ", ".join(OPTIONS)
            raise ConfigurationError(
                f"cache {shown!r}: option {name!r} is not supported yet (supported: {known})"
            )
        argument, kind = OPTIONS[name]
        try:
            converted = kind(value)
        except ValueError:
            raise ConfigurationError(
                f"cache {shown!r}: option {name}={value!r} is not a {kind.__name__}"
            ) from None
        if converted <= 0:
            raise ConfigurationError(f"cache {shown!r}: option {name} must be above 0")
        options[argument] = converted
    return options
