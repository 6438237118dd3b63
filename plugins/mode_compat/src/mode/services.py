"""``mode.services``: strm's implementation, :mod:`strm.compat.mode.services`."""

from strm.compat.mode.services import *  # noqa: F403
from strm.compat.mode.services import __all__ as __all__
