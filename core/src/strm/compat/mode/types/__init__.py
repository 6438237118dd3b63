"""``mode.types``: the service protocol, for annotations and ``isinstance``."""

from strm.services import ServiceT

__all__ = ["ServiceT"]
