"""The parts of mode (Faust's service library) that Faust apps import, implemented by strm.

Why: a Faust app imports ``mode`` next to ``faust`` (``from mode import Service``). With the
``strm-mode-compat`` distribution installed, ``mode`` is this package, so such imports keep
working with strm. The supervisors are strm's agent supervisor strategies under mode's names, to
pass as ``supervisor_strategy=`` or the ``agent_supervisor`` setting.
"""

from __future__ import annotations

from typing import Any

from strm.compat.mode.services import Service, ServiceT, task, timer
from strm.compat.mode.supervisors import (
    CrashingSupervisor,
    ForfeitOneForAllSupervisor,
    ForfeitOneForOneSupervisor,
    OneForAllSupervisor,
    OneForOneSupervisor,
    SupervisorStrategy,
)
from strm.compat.mode.utils.logging import get_logger
from strm.compat.mode.utils.objects import label, shortlabel
from strm.compat.mode.utils.times import Seconds, want_seconds
from strm.signals import BaseSignal, Signal, SyncSignal

#: mode's names that strm does not provide yet, and what to use instead.
NOT_SUPPORTED = {
    "Worker": "run the app with 'strm worker' (or 'python app.py worker')",
    "setup_logging": "strm's worker sets up logging ('strm worker -l info')",
    "flight_recorder": "log with self.log",
}


def __getattr__(name: str) -> Any:
    if name in NOT_SUPPORTED:
        raise AttributeError(
            f"mode.{name} is not supported by strm yet: {NOT_SUPPORTED[name]}", name=name
        )
    raise AttributeError(f"module 'mode' has no attribute {name!r}", name=name)


__all__ = [
    "BaseSignal",
    "CrashingSupervisor",
    "ForfeitOneForAllSupervisor",
    "ForfeitOneForOneSupervisor",
    "OneForAllSupervisor",
    "OneForOneSupervisor",
    "Seconds",
    "Service",
    "ServiceT",
    "Signal",
    "SupervisorStrategy",
    "SyncSignal",
    "get_logger",
    "label",
    "shortlabel",
    "task",
    "timer",
    "want_seconds",
]
