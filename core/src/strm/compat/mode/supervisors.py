"""``mode.supervisors``: strm's agent supervisor strategies under mode's class names.

In Faust these classes are passed to ``@app.agent(supervisor_strategy=...)`` or the
``agent_supervisor`` setting; strm's classes of the same names do the same job there. They
supervise agents only: mode's use of a supervisor as a service of its own (``.add(service)``)
is not supported.
"""

from strm.agents.supervisors import (
    CrashingSupervisor,
    ForfeitOneForAllSupervisor,
    ForfeitOneForOneSupervisor,
    OneForAllSupervisor,
    OneForOneSupervisor,
)
from strm.agents.supervisors import Supervisor as SupervisorStrategy

__all__ = [
    "CrashingSupervisor",
    "ForfeitOneForAllSupervisor",
    "ForfeitOneForOneSupervisor",
    "OneForAllSupervisor",
    "OneForOneSupervisor",
    "SupervisorStrategy",
]
