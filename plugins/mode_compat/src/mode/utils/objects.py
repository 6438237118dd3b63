"""``mode.utils.objects``: strm's implementation, :mod:`strm.compat.mode.utils.objects`."""

from strm.compat.mode.utils.objects import *  # noqa: F403
from strm.compat.mode.utils.objects import __all__ as __all__
