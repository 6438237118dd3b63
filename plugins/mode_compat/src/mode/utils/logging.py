"""``mode.utils.logging``: strm's implementation, :mod:`strm.compat.mode.utils.logging`."""

from strm.compat.mode.utils.logging import *  # noqa: F403
from strm.compat.mode.utils.logging import __all__ as __all__
