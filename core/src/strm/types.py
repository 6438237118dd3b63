"""Faust's typing names (``faust.types``: ``AppT``, ``StreamT``, ``TopicT``, ...).

In Faust they are abstract base classes its concrete classes derive from; strm has one class for
each role, so each name is that class: it works in annotations, in ``isinstance`` checks and,
where the class is generic in Faust (``StreamT[Order]``), subscripted.
"""

from __future__ import annotations

from strm.agents.agent import Agent as AgentT
from strm.app import App as AppT
from strm.channels import Channel as ChannelT
from strm.channels import Topic as TopicT
from strm.codecs import Codec as CodecT
from strm.events import Event as EventT
from strm.kernel.settings.conf import Conf as Settings
from strm.kernel.spi import TP
from strm.models import Model as ModelT
from strm.services import Service as ServiceT
from strm.streams import Stream as StreamT
from strm.tables.table import Collection as CollectionT
from strm.tables.table import Table as TableT

__all__ = [
    "TP",
    "AgentT",
    "AppT",
    "ChannelT",
    "CodecT",
    "CollectionT",
    "EventT",
    "ModelT",
    "ServiceT",
    "Settings",
    "StreamT",
    "TableT",
    "TopicT",
]
