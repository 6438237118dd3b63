"""Where the server listens, picked by the ``web_transport`` setting's scheme.

``tcp://`` listens on ``web_bind:web_port``; ``unix:///path/to.sock`` on a Unix domain socket,
for a proxy on the same machine (no port, file permissions decide who may connect). Each
factory is called as ``factory(runner=, context=, url=)`` (a
:class:`strm.kernel.contexts.WebContext`) and returns a :class:`Listener`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from strm.web import WebServerError

if TYPE_CHECKING:
    from strm.kernel.contexts import WebContext


@dataclass
class Listener:
    """An aiohttp site, where it listens, and what to clean up once it has stopped."""

    site: web.BaseSite
    address: str
    socket_path: str | None = field(default=None)

    async def start(self) -> None:
        try:
            await self.site.start()
        except OSError as exc:
            raise WebServerError(
                f"the web server cannot listen on {self.address}: {_why(exc)}"
            ) from None

    def cleanup(self) -> None:
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)


def tcp_site(*, runner: web.AppRunner, context: WebContext, url: str, **_: Any) -> Listener:
    conf = context.conf
    ssl_context = conf.web_ssl_context
    scheme = "https" if ssl_context is not None else "http"
    host = conf.web_bind
    shown = f"[{host}]" if ":" in host else host
    site = web.TCPSite(runner, host=host, port=conf.web_port, ssl_context=ssl_context)
    return Listener(site, f"{scheme}://{shown}:{conf.web_port}")


def unix_site(*, runner: web.AppRunner, context: WebContext, url: str, **_: Any) -> Listener:
    path = socket_path(url)
    _check_socket_path(path)
    site = web.UnixSite(runner, path, ssl_context=context.conf.web_ssl_context)
    return Listener(site, f"unix://{path}", socket_path=path)


def socket_path(url: str) -> str:
    """``unix:///run/app.sock`` -> ``/run/app.sock`` (``unix://app.sock``: relative)."""
    path = url.partition("://")[2]
    if not path:
        raise WebServerError(
            f"web_transport {url!r}: a unix socket needs a path, as unix:///run/app.sock"
        )
    return path


def _check_socket_path(path: str) -> None:
    """Refuse a path that holds a file, or a socket a live server answers on; a socket left
    by a server that is gone is removed (asyncio would replace it silently either way)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WebServerError(
            f"the web server cannot use the socket path {path}: {_why(exc)}"
        ) from None
    if not stat.S_ISSOCK(mode):
        raise WebServerError(
            f"the web server cannot listen on unix://{path}: the path exists and is not a "
            "socket; remove it or choose another web_transport"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody answers: left by a server that is gone
        return
    finally:
        probe.close()
    raise WebServerError(
        f"the web server cannot listen on unix://{path}: another server is listening there"
    )


def _why(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is in use (another worker? choose another with --web-port)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "the address is not one of this machine's (check web_bind)"
    if exc.errno == errno.ENOENT:
        return "its directory does not exist"
    return exc.strerror or str(exc)
