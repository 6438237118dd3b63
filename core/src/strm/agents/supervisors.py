"""The agent supervisor strategies (registered by the ``supervisors`` built-in plugin,
:mod:`strm.builtins.supervisors`).

A supervisor decides what happens when one instance (actor) of an agent raises: restart it,
restart all of the agent's instances, give up on one or all, or stop the worker so that the
operating system's supervisor restarts the process. Each restarting strategy allows at most
``max_restarts`` restarts within ``over`` seconds; beyond that the worker is stopped. A record
that could not be dead-lettered stops the worker whatever the strategy: going on would skip it.
"""

from __future__ import annotations

import enum
import time
from collections import deque

from strm.kernel.errors import DeadLetterError


class Decision(enum.Enum):
    RESTART_ONE = "restart the failed instance"
    RESTART_ALL = "restart every instance of the agent"
    STOP_ONE = "stop the failed instance for good"
    STOP_ALL = "stop every instance of the agent for good"
    CRASH = "stop the worker"


class Supervisor:
    """Base class: subclasses set :attr:`decision`."""

    decision = Decision.RESTART_ONE

    def __init__(self, agent_name: str, *, max_restarts: int = 100, over: float = 1.0) -> None:
        self.agent_name = agent_name
        self.max_restarts = max_restarts
        self.over = over
        self._restarts: deque[float] = deque()

    def on_crash(self, index: int, error: BaseException) -> Decision:
        """Called when instance ``index`` raised ``error``; returns what to do."""
        if isinstance(error, DeadLetterError):
            return Decision.CRASH
        decision = self.decision
        if decision in (Decision.RESTART_ONE, Decision.RESTART_ALL) and self._over_budget():
            return Decision.CRASH
        return decision

    def _over_budget(self) -> bool:
        now = time.monotonic()
        restarts = self._restarts
        restarts.append(now)
        while restarts and now - restarts[0] > self.over:
            restarts.popleft()
        return len(restarts) > self.max_restarts


class OneForOneSupervisor(Supervisor):
    decision = Decision.RESTART_ONE


class OneForAllSupervisor(Supervisor):
    decision = Decision.RESTART_ALL


class CrashingSupervisor(Supervisor):
    decision = Decision.CRASH


class ForfeitOneForOneSupervisor(Supervisor):
    decision = Decision.STOP_ONE


class ForfeitOneForAllSupervisor(Supervisor):
    decision = Decision.STOP_ALL
