"""``mode.utils.aiter``: strm's implementation, :mod:`strm.compat.mode.utils.aiter`."""

from strm.compat.mode.utils.aiter import *  # noqa: F403
from strm.compat.mode.utils.aiter import __all__ as __all__
