"""URLs as strm shows them: without the password of their userinfo.

A broker, store or cache URL may carry credentials (``redis://:pass@host``,
``aerospike://user:pass@host/ns``). Everything that shows a URL (the worker banner,
``strm settings``, error messages, reprs) passes it through :func:`redact_url` first, so that a
password never reaches a terminal, a log file or a bug report.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

#: An authority (``userinfo@host:port``): after each ``://``, or at the start of text without a
#: scheme, up to the path, query or fragment.
_AUTHORITY = re.compile(r"(?:^|(?<=://))[^/?#]*")


def redact_url(url: str) -> str:
    """``kafka://user:secret@host:9092`` as ``kafka://user:***@host:9092``.

    Userinfo without a password (``https://token@host``) is masked whole, since it is often a
    token itself. Text that starts without a scheme (``:secret@host``, in an error refusing it)
    is taken to start with an authority. Every URL in the text is redacted; where several share
    one authority (``kafka://a:1@h1;b:2@h2``), everything up to its last ``@`` is masked, so
    nothing of a password shows, at the cost of the hosts between.
    """
    return _AUTHORITY.sub(_masked, url)


def _masked(authority: re.Match[str]) -> str:
    userinfo, at, host = authority.group().rpartition("@")
    if not at:
        return authority.group()
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"


def redact_urls(value: Any, *, every_string: bool = False) -> Any:
    """A value to show with every URL in it redacted: the strings holding ``://``, also inside
    lists, tuples and mappings; anything else as it is. With ``every_string`` (the value of a
    URL setting, quoted by the error refusing it) each string is redacted as a URL."""
    if isinstance(value, str):
        return redact_url(value) if every_string or "://" in value else value
    if isinstance(value, list | tuple):
        return type(value)(redact_urls(item, every_string=every_string) for item in value)
    if isinstance(value, dict):
        return {key: redact_urls(item, every_string=every_string) for key, item in value.items()}
    return value
