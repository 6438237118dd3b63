"""Times rebalances for the sensors: from the moment the consumer starts one (it revokes, or
assigns without revoking first) to the moment the new assignment is announced."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.kernel.spi import TP


class RebalanceClock:
    """One per conductor; a rebalance under way is not started again by the next callback of
    the same rebalance (eager Kafka rebalances revoke, then assign)."""

    __slots__ = ("app", "started")

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()
            self.app.sensors.on_rebalance_started()

    def announced(self, assigned: set[TP]) -> None:
        """The new partitions are announced: the sensors hear of them, then of the end."""
        sensors = self.app.sensors
        sensors.on_partitions_assigned(assigned)
        started, self.started = self.started, None
        if started is not None:
            sensors.on_rebalance_finished(time.monotonic() - started)


__all__ = ["RebalanceClock"]
