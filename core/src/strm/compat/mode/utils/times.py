"""``mode.utils.times``: durations as mode takes them."""

from strm.services import Seconds, want_seconds

__all__ = ["Seconds", "want_seconds"]
