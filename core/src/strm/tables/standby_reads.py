"""Reads from standby copies, allowed only where a caller accepted their staleness.

A worker keeps standby copies of other workers' table partitions so that taking one over is
quick. A standby is behind its owner: it applies only changelog records a seal has confirmed,
so it holds the owner's state as of the owner's last checkpoint (``broker_commit_every`` and
``broker_commit_interval``) plus the time to fetch it. Table reads refuse standby partitions
unless the code runs inside :func:`reading_standbys`, which ``@app.table_route(...,
standby_ok=True)`` uses to answer from a standby instead of forwarding the request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_STANDBY_READS: ContextVar[bool] = ContextVar("strm_standby_reads", default=False)


@contextlib.contextmanager
def reading_standbys() -> Iterator[None]:
    """Within this block, reads of this task may be answered by standby partitions."""
    token = _STANDBY_READS.set(True)
    try:
        yield
    finally:
        _STANDBY_READS.reset(token)


def standby_reads_allowed() -> bool:
    return _STANDBY_READS.get()


__all__ = ["reading_standbys", "standby_reads_allowed"]
