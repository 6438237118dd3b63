"""``mode.types``: strm's implementation, :mod:`strm.compat.mode.types`."""

from strm.compat.mode.types import *  # noqa: F403
from strm.compat.mode.types import __all__ as __all__
