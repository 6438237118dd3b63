"""The default extension classes, provided through the same hook a plugin uses to replace one."""

from __future__ import annotations

from strm.agents.agent import Agent
from strm.channels import Topic
from strm.codecs.registry import Serializers
from strm.events import Event
from strm.kernel import records
from strm.kernel.assignor import PartitionAssignor
from strm.kernel.hookspecs import hookimpl
from strm.kernel.records import Provision
from strm.router import Router
from strm.runtime.leader import LeaderAssignor
from strm.runtime.table_manager import TableManager
from strm.schema import Schema
from strm.sensors import Monitor
from strm.streams import Stream
from strm.tables.global_table import GlobalTable
from strm.tables.set_table import SetGlobalTable, SetTable
from strm.tables.table import Table
from strm.worker import Worker


@hookimpl
def strm_extension_classes() -> list[Provision]:
    return [
        records.extension_class("Agent", Agent),
        records.extension_class("Event", Event),
        records.extension_class("LeaderAssignor", LeaderAssignor),
        records.extension_class("PartitionAssignor", PartitionAssignor),
        records.extension_class("Router", Router),
        records.extension_class("Monitor", Monitor),
        records.extension_class("Schema", Schema),
        records.extension_class("Serializers", Serializers),
        records.extension_class("Stream", Stream),
        records.extension_class("Table", Table),
        records.extension_class("GlobalTable", GlobalTable),
        records.extension_class("SetTable", SetTable),
        records.extension_class("SetGlobalTable", SetGlobalTable),
        records.extension_class("TableManager", TableManager),
        records.extension_class("Topic", Topic),
        records.extension_class("Worker", Worker),
    ]
