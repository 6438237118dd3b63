"""``mode.utils.times``: strm's implementation, :mod:`strm.compat.mode.utils.times`."""

from strm.compat.mode.utils.times import *  # noqa: F403
from strm.compat.mode.utils.times import __all__ as __all__
