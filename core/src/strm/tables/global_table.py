"""Global tables: every worker holds every partition.

A global table is read locally on every worker and written by any of them: a write goes to the
partition the producer's partitioner picks for the key. Each worker keeps all partitions up to
date with a reader of its own — a consumer alone in its group, so it gets every partition of the
changelog — that starts where each local store left off. A worker is ready only once its global
tables have caught up with the changelog's end as it was at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TP, Consumer
from strm.runtime.changelog_events import notify_changelog_events
from strm.tables.table import Table

if TYPE_CHECKING:
    from strm.tables.table import Collection

logger = logging.getLogger("strm.tables")


class GlobalTable(Table):
    """``app.GlobalTable('config')``: the whole table on every worker."""

    is_global = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["use_partitioner"] = True
        super().__init__(*args, **kwargs)


class GlobalReader:
    """Keeps one global table's local stores up to date with its changelog."""

    def __init__(self, table: Collection) -> None:
        self.table = table
        self.caught_up = asyncio.Event()
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[BaseException | None] | None = None
        self._targets: dict[TP, int] = {}

    async def start(self) -> None:
        app = self.table.app
        topic = self.table.changelog_topic
        await topic.declare()
        transport = app.transport("broker_consumer")
        consumer = transport.create_consumer(
            group_id=f"{app.conf.id}-{self.table.name}-global-{uuid.uuid4().hex[:12]}",
            client_id=app.conf.broker_client_id,
        )
        consumer.subscribe([topic.get_topic_name()], self)
        self._consumer = consumer
        await consumer.start()
        self._task = app.runtime.spawn(
            self._read(consumer), name=f"global table {self.table.name!r} reader"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        consumer = self._consumer
        assert consumer is not None
        ends = await consumer.end_offsets(assigned)
        beginnings = await consumer.beginning_offsets(assigned)
        for tp in assigned:
            applied = self.table.shard(tp.partition).store.applied_offset(tp)
            start = beginnings[tp] if applied is None else applied + 1
            consumer.seek(tp, start)
            if start < ends[tp]:
                self._targets[tp] = ends[tp]
        await self._check_caught_up()

    async def _check_caught_up(self) -> None:
        if not self._targets and not self.caught_up.is_set():
            self.caught_up.set()
            logger.info("global table %r is up to date", self.table.name)
            await self.table.call_recover_callbacks()

    async def _read(self, consumer: Consumer) -> None:
        table = self.table
        while True:
            batches = await consumer.getmany(0.5)
            for tp, messages in batches.items():
                if not messages:
                    continue
                shard = table.shard(tp.partition)
                puts = {m.key: m.value for m in messages if m.key is not None}
                await asyncio.to_thread(shard.store.write_batch, puts, {tp: messages[-1].offset})
                shard.invalidate()
                if table.on_changelog_event is not None:
                    await notify_changelog_events(table, messages)
            for tp, end in list(self._targets.items()):
                if await consumer.position(tp) >= end:
                    del self._targets[tp]
            await self._check_caught_up()
