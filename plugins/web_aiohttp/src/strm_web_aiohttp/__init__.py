"""strm-web-aiohttp: strm's web server on aiohttp (``web='aiohttp://'``), listening on
``tcp://`` or ``unix:///path.sock``, and ``app.http_client`` as an ``aiohttp.ClientSession``.

This module is the plugin: strm registers it through the entry point ``web_aiohttp`` of group
``strm``. Views, routing, CORS and the operator endpoints are the kernel's (:mod:`strm.web`);
this plugin turns aiohttp's requests into :class:`strm.web.Request` and back.

aiohttp is imported when the app first uses the server or ``app.http_client``, never by loading
the plugin: the provisions name their factories by path, so a worker with ``web_enabled=False``
that calls out to no HTTP service does not import aiohttp (about 0.16 s of CPU at each start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strm
from strm.kernel import records
from strm.kernel.records import Provision
from strm.kernel.settings.setting import Setting

from strm_web_aiohttp.limits import MAX_BODY_SIZE_SETTING

if TYPE_CHECKING:
    from strm_web_aiohttp.driver import AiohttpDriver
    from strm_web_aiohttp.transports import tcp_site, unix_site

#: What this module exports from the modules that import aiohttp, loaded on first access.
__getattr__ = records.lazy_exports(
    __name__,
    {
        "AiohttpDriver": "strm_web_aiohttp.driver:AiohttpDriver",
        "tcp_site": "strm_web_aiohttp.transports:tcp_site",
        "unix_site": "strm_web_aiohttp.transports:unix_site",
    },
)


@strm.hookimpl
def strm_web_drivers() -> list[Provision]:
    return [
        records.web_driver(
            "aiohttp", "strm_web_aiohttp.driver:AiohttpDriver", description="aiohttp web server"
        )
    ]


@strm.hookimpl
def strm_web_transports() -> list[Provision]:
    return [
        records.web_transport(
            "tcp", "strm_web_aiohttp.transports:tcp_site", description="TCP on web_bind:web_port"
        ),
        records.web_transport(
            "unix", "strm_web_aiohttp.transports:unix_site", description="a Unix domain socket"
        ),
    ]


@strm.hookimpl
def strm_extension_classes() -> list[Provision]:
    return [records.extension_class("HttpClient", "aiohttp:ClientSession")]


@strm.hookimpl
def strm_settings() -> list[Setting]:
    return [MAX_BODY_SIZE_SETTING]


__all__ = ["AiohttpDriver", "tcp_site", "unix_site"]
