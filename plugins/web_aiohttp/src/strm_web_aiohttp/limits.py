"""The request body limit: a body larger than this is answered with 413, read or not."""

from __future__ import annotations

from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import Int

#: aiohttp's own default (``client_max_size``): 1 MiB.
DEFAULT_MAX_BODY_SIZE = 1024**2

MAX_BODY_SIZE_SETTING = Setting(
    "web_max_body_size",
    Int(min=1),
    "Largest request body the web server accepts, in bytes; a larger one gets 413.",
    default=DEFAULT_MAX_BODY_SIZE,
    env="WEB_MAX_BODY_SIZE",
    section="WebServer",
)
