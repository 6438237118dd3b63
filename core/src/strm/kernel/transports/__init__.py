"""The built-in ``memory://`` transport, the producer partitioners, and the errors every
transport raises for the same mistakes, so the kernel handles them alike whatever the backend."""

from __future__ import annotations

from strm.kernel.errors import StrmError


class TransportError(StrmError):
    """A transport refused an operation: a closed client, an unknown topic or partition."""


class RecordTooLargeError(TransportError):
    """A record is larger than the producer or the broker accepts (``producer_max_request_size``,
    the topic's ``max.message.bytes``); sending it again as it is fails again."""


class PartitionNotAssignedError(TransportError):
    """An operation that needs an assigned partition (commit, seek, pause) was given another."""


class NoOffsetForPartitionError(TransportError):
    """A partition has no committed offset and ``consumer_auto_offset_reset`` is ``'none'``."""


__all__ = [
    "NoOffsetForPartitionError",
    "PartitionNotAssignedError",
    "RecordTooLargeError",
    "TransportError",
]
