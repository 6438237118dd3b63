"""The conductor's watchdog: warnings about stuck agents and commits that do not advance.

Split from :mod:`strm.conductor`; it only reads the conductor's state, on a timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from strm.runtime.structured_logs import log_position

if TYPE_CHECKING:
    from strm.runtime.conductor import Conductor

logger = logging.getLogger("strm.conductor")


async def watch_loop(self: Conductor) -> None:
    """Warn about events processed for too long and partitions whose commits stall."""
    conf = self.app.conf
    slow_after = conf.stream_processing_timeout
    livelock_after = conf.broker_commit_livelock_soft_timeout
    interval = max(0.05, min(slow_after, livelock_after, 10.0) / 4)
    watched: dict[int, tuple[object, float, bool]] = {}
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        check_slow_events(self, watched, now, slow_after)
        check_livelock(self, now, livelock_after)


def check_slow_events(
    self: Conductor, watched: dict[int, tuple[object, float, bool]], now: float, slow_after: float
) -> None:
    """Warn once per event that a stream has been processing for too long."""
    for subs in self.subscriptions.values():
        for sub in subs:
            for stream in sub.readers:
                event = stream.current_event if stream.busy_tp is not None else None
                key = id(stream)
                seen = watched.get(key)
                if event is None:
                    watched.pop(key, None)
                    continue
                if seen is None or seen[0] is not event:
                    watched[key] = (event, now, False)
                elif now - seen[1] > slow_after and not seen[2]:
                    watched[key] = (event, seen[1], True)
                    m = event.message
                    logger.warning(
                        "processing of %s[%d]@%d has taken more than %.1f s "
                        "(stream_processing_timeout); the agent may be stuck",
                        m.topic,
                        m.partition,
                        m.offset,
                        slow_after,
                        extra=log_position(m.topic, m.partition, m.offset),
                    )


def check_livelock(self: Conductor, now: float, livelock_after: float) -> None:
    """Warn when a partition's committed offset stays behind its fetched records."""
    for tp, fetched in self._fetched_upto.items():
        if tp not in self.assignment:
            continue
        committed = self.committed.get(tp, 0)
        if fetched + 1 <= committed:
            self._stalled_since.pop(tp, None)
            continue
        since = self._stalled_since.setdefault(tp, now)
        if now - since > livelock_after:
            self._stalled_since[tp] = now
            logger.warning(
                "the committed offset of %s[%d] has not advanced for %.0f s while records "
                "wait (broker_commit_livelock_soft_timeout): an event is not being "
                "acknowledged or an agent is stuck",
                tp.topic,
                tp.partition,
                livelock_after,
                extra=log_position(tp.topic, tp.partition),
            )
