"""The ``supervisors`` built-in plugin: the strategies of :mod:`strm.agents.supervisors` by
name (``App(agent_supervisor=...)``, ``@app.agent(supervisor_strategy=...)``)."""

from __future__ import annotations

from strm.agents.supervisors import (
    CrashingSupervisor,
    ForfeitOneForAllSupervisor,
    ForfeitOneForOneSupervisor,
    OneForAllSupervisor,
    OneForOneSupervisor,
)
from strm.kernel import records
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision


@hookimpl
def strm_agent_supervisors() -> list[Provision]:
    return [
        records.supervisor("one_for_one", OneForOneSupervisor, description="restart one"),
        records.supervisor("one_for_all", OneForAllSupervisor, description="restart all"),
        records.supervisor("crashing", CrashingSupervisor, description="stop the worker"),
        records.supervisor(
            "forfeit_one_for_one", ForfeitOneForOneSupervisor, description="give up on one"
        ),
        records.supervisor(
            "forfeit_one_for_all", ForfeitOneForAllSupervisor, description="give up on all"
        ),
    ]
