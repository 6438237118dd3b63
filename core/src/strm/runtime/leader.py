"""Leader election (the ``LeaderAssignor`` extension class).

The leader is the worker that is assigned partition 0 of a one-partition internal topic,
``<app id>-__assignor-__leader``: the consumer group's assignment already guarantees exactly one
such worker at a time, and it moves when that worker leaves.
"""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING

from strm.kernel.spi import TP

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike


class LeaderAssignor:
    def __init__(self, app: AppLike) -> None:
        self.app = app

    @property
    def topic(self) -> str:
        return f"{self.app.conf.id}-__assignor-__leader"

    def is_leader(self, assignment: Set[TP]) -> bool:
        return TP(self.topic, 0) in assignment
