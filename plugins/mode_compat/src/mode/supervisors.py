"""``mode.supervisors``: strm's implementation, :mod:`strm.compat.mode.supervisors`."""

from strm.compat.mode.supervisors import *  # noqa: F403
from strm.compat.mode.supervisors import __all__ as __all__
