"""The dashboard's memory of recent failures and rebalances: a sensor keeping the last few.

The Monitor counts errors and rebalances; an operator looking at the page also wants to know
which, when, and what was said. Only failures and rebalances reach this sensor (it overrides
nothing on the reading path), so keeping them costs nothing per batch.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TP, Message
from strm.sensors import Sensor

if TYPE_CHECKING:
    from strm.app import App

#: How many errors and rebalances the page shows.
KEEP = 20
#: Error messages are cut to this many characters: a value quoted in an exception can be large.
MESSAGE_CHARS = 300

_logs: weakref.WeakKeyDictionary[App, RecentLog] = weakref.WeakKeyDictionary()


class RecentLog(Sensor):
    """The last :data:`KEEP` errors and rebalances, newest last, as JSON-ready dicts."""

    def __init__(self) -> None:
        self.errors: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.rebalances: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._assigned = 0
        self._revoked = 0

    def _error(self, where: str, error: BaseException) -> None:
        message = str(error)
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        self.errors.append(
            {"time": time.time(), "where": where, "type": type(error).__name__, "message": message}
        )

    def on_agent_error(self, agent: str, error: BaseException) -> None:
        self._error(f"agent {agent}", error)

    def on_dead_letter(self, message: Message, error: BaseException, stage: str) -> None:
        self._error(f"{stage} {message.topic}[{message.partition}]@{message.offset}", error)

    def on_send_failed(self, topic: str, count: int, error: BaseException) -> None:
        self._error(f"send to {topic} ({count} records)", error)

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._revoked += len(revoked)

    def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self._assigned += len(assigned)

    def on_rebalance_finished(self, seconds: float) -> None:
        self.rebalances.append(
            {
                "time": time.time(),
                "assigned": self._assigned,
                "revoked": self._revoked,
                "seconds": seconds,
            }
        )
        self._assigned = self._revoked = 0


def recent_log(app: App) -> RecentLog:
    """The app's log, attached to its sensors the first time the dashboard is mounted (when the
    web server starts, before the consumer joins the group)."""
    log = _logs.get(app)
    if log is None:
        log = _logs[app] = RecentLog()
        app.sensors.add(log)
    return log


__all__ = ["KEEP", "RecentLog", "recent_log"]
