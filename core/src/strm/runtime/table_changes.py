"""What a checkpoint takes from the tables and sends to their changelogs: each table
partition's changed keys, the changelog records sent for them, and the seals that follow
(:mod:`strm.runtime.table_manager`, "Checkpoint")."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TP, RecordMetadata

if TYPE_CHECKING:
    from strm.tables.shard import Shard
    from strm.tables.table import Collection


class ShardChanges:
    """A table partition's changed keys with their values (``DELETED``), taken by a snapshot."""

    __slots__ = ("changed", "shard", "table")

    def __init__(self, table: Collection, shard: Shard, changed: dict[Any, Any]) -> None:
        self.table = table
        self.shard = shard
        self.changed = changed


class Written:
    """A table partition's changes as sent to its changelog."""

    __slots__ = ("change", "delivery", "puts", "tp")

    def __init__(
        self,
        change: ShardChanges,
        tp: TP,
        puts: dict[bytes, bytes | None],
        delivery: Awaitable[RecordMetadata],
    ) -> None:
        self.change = change
        self.tp = tp
        self.puts = puts
        self.delivery = delivery


class Seal:
    """A seal sent to a table partition's changelog, and the source offsets it records."""

    __slots__ = ("delivery", "shard", "sources", "tp")

    def __init__(
        self, tp: TP, shard: Shard, sources: dict[TP, int], delivery: Awaitable[RecordMetadata]
    ) -> None:
        self.tp = tp
        self.shard = shard
        self.sources = sources
        self.delivery = delivery
