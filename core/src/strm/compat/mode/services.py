"""``mode.services``: strm's :mod:`strm.services`."""

from strm.services import (
    CompositeLogger,
    Service,
    ServiceT,
    ServiceTask,
    WaitResult,
    WaitResults,
    crontab,
    task,
    timer,
)

__all__ = [
    "CompositeLogger",
    "Service",
    "ServiceT",
    "ServiceTask",
    "WaitResult",
    "WaitResults",
    "crontab",
    "task",
    "timer",
]
