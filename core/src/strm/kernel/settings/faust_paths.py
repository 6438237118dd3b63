"""Faust's dotted paths in class settings, as Faust users write them, mapped to strm's own.

``App(..., Stream='faust.Stream')`` or ``agent_supervisor='mode.OneForOneSupervisor'`` come
from Faust projects' configuration files; strm takes them and uses its own class or
supervisor of the same role. A Faust path strm has no counterpart for is not in the mapping, so
it fails to import with the usual error naming the setting.
"""

from __future__ import annotations

#: Faust's class locations (each also reachable as ``faust.Name`` and with ``:``), and strm's.
_CLASSES: dict[str, tuple[str, ...]] = {
    "strm.agents.agent:Agent": ("faust.agents.Agent", "faust.agents.agent.Agent"),
    "strm.events:Event": ("faust.events.Event",),
    "strm.schema:Schema": ("faust.serializers.Schema", "faust.serializers.schemas.Schema"),
    "strm.streams:Stream": ("faust.streams.Stream",),
    "strm.channels:Topic": ("faust.topics.Topic",),
    "strm.tables.table:Table": ("faust.tables.Table", "faust.tables.table.Table"),
    "strm.tables.set_table:SetTable": ("faust.tables.SetTable", "faust.tables.sets.SetTable"),
    "strm.tables.global_table:GlobalTable": (
        "faust.tables.GlobalTable",
        "faust.tables.globaltable.GlobalTable",
    ),
    "strm.tables.set_table:SetGlobalTable": (
        "faust.tables.SetGlobalTable",
        "faust.tables.sets.SetGlobalTable",
    ),
    "strm.runtime.table_manager:TableManager": (
        "faust.tables.TableManager",
        "faust.tables.manager.TableManager",
    ),
    "strm.codecs.registry:Serializers": (
        "faust.serializers.Registry",
        "faust.serializers.registry.Registry",
    ),
    "strm.worker:Worker": ("faust.worker.Worker",),
    "strm.kernel.assignor:PartitionAssignor": (
        "faust.assignor.PartitionAssignor",
        "faust.assignor.partition_assignor.PartitionAssignor",
    ),
    "strm.runtime.leader:LeaderAssignor": (
        "faust.assignor.LeaderAssignor",
        "faust.assignor.leader_assignor.LeaderAssignor",
    ),
    "strm.sensors:Monitor": ("faust.sensors.Monitor", "faust.sensors.monitor.Monitor"),
}

#: Faust's and mode's classes for settings that take a registered name (``agent_supervisor``,
#: ``ConsumerScheduler``), by the name of strm's counterpart.
_NAMED: dict[str, tuple[str, ...]] = {
    "one_for_one": ("mode.OneForOneSupervisor", "mode.supervisors.OneForOneSupervisor"),
    "one_for_all": ("mode.OneForAllSupervisor", "mode.supervisors.OneForAllSupervisor"),
    "crashing": ("mode.CrashingSupervisor", "mode.supervisors.CrashingSupervisor"),
    "forfeit_one_for_one": (
        "mode.ForfeitOneForOneSupervisor",
        "mode.supervisors.ForfeitOneForOneSupervisor",
    ),
    "forfeit_one_for_all": (
        "mode.ForfeitOneForAllSupervisor",
        "mode.supervisors.ForfeitOneForAllSupervisor",
    ),
    "round_robin": ("faust.transport.utils.DefaultSchedulingStrategy",),
}


def _spellings(path: str) -> list[str]:
    module, _, name = path.rpartition(".")
    return [path, f"{module}:{name}", f"faust.{name}", f"faust:{name}"]


FAUST_CLASS_PATHS: dict[str, str] = {
    spelling: target
    for target, paths in _CLASSES.items()
    for path in paths
    for spelling in _spellings(path)
}

FAUST_NAMES: dict[str, str] = {
    spelling: name
    for name, paths in _NAMED.items()
    for path in paths
    for spelling in (path, ":".join(path.rsplit(".", 1)))
}


def strm_class_path(path: str) -> str:
    """strm's path for a Faust class path; any other path unchanged."""
    return FAUST_CLASS_PATHS.get(path, path)


def strm_name(path: str) -> str | None:
    """The registered name of strm's counterpart of one of Faust's or mode's classes."""
    return FAUST_NAMES.get(path)


__all__ = ["FAUST_CLASS_PATHS", "FAUST_NAMES", "strm_class_path", "strm_name"]
