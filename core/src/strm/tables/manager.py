"""The table manager (the ``TableManager`` extension class): stores, changelogs, recovery.

* **Checkpoint.** Each table partition's dirty keys become changelog records; once the producer
  has them, the store is written in one batch together with the changelog offset it now
  contains, off the event loop. Only then are source offsets committed.
* **Recovery.** When partitions are assigned, the streams of the worker wait while every table
  partition is brought up to date: from the offset its store says it has applied to the
  changelog's end, copying records straight into the store in batches (no decoding). Progress
  (records done, left, rate) is logged every second. Then the changelog partitions are paused
  (this worker writes them; it need not read them back) and the streams resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from strm.errors import StoreError, StrmError
from strm.spi import TP, Message, RecordMetadata, Store
from strm.tables.changelog_events import notify_changelog_events
from strm.tables.global_table import GlobalReader
from strm.tables.shard import DELETED, Shard

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from strm.app import App
    from strm.tables.table import Collection

logger = logging.getLogger("strm.tables")

PROGRESS_EVERY = 1.0
#: Changelog header: the source offsets a checkpoint committed with these table changes.
HEADER_SOURCE_OFFSETS = "strm-source-offsets"


class _Recovery:
    """The changelog partitions being replayed, and how far each has to go."""

    def __init__(self, targets: dict[TP, tuple[int, int]]) -> None:
        self.targets = targets  # tp -> (first offset to read, end offset)
        self.pending = set(targets)
        self.done: dict[TP, int] = dict.fromkeys(targets, 0)
        #: The furthest source offsets the replayed changes account for.
        self.sources: dict[TP, int] = {}
        self.started = time.monotonic()
        self.finished = asyncio.Event()

    @property
    def total(self) -> int:
        return sum(end - start for start, end in self.targets.values())

    @property
    def applied(self) -> int:
        return sum(self.done.values())


class TableManager:
    def __init__(self, app: App) -> None:
        self.app = app
        self.tables: dict[str, Collection] = {}
        self._by_changelog: dict[str, Collection] = {}
        self._recovery: _Recovery | None = None
        self.recovered_records = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._recovered = asyncio.Event()
        self._recovered.set()
        self._cleanup_task: asyncio.Task[None] | None = None
        self._global_readers: list[GlobalReader] = []
        #: Changelog partitions this worker keeps as standby copies.
        self._standby: set[TP] = set()

    def add(self, table: Collection) -> Collection:
        if table.name in self.tables:
            raise StrmError(f"two tables are named {table.name!r}")
        self.tables[table.name] = table
        return table

    def __getitem__(self, name: str) -> Collection:
        return self.tables[name]

    def __iter__(self) -> Any:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    # -- stores ----------------------------------------------------------------------------------

    def open_store(self, table: Collection, partition: int) -> Store:
        app = self.app
        url = table.store_url or app.conf.store
        factory = app.resolve_backend("store", url).factory
        try:
            store: Store = factory(
                url=url,
                app=app,
                table_name=table.name,
                partition=partition,
                options=dict(table.options),
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"table {table.name!r} partition {partition}: cannot open its store {url!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return store

    def owns(self, table: Collection, partition: int) -> bool:
        """Whether this worker owns this partition of the table (not as a standby)."""
        return partition in table.owned_partitions

    def partition_of_key(self, table: Collection, raw_key: bytes) -> int:
        partitioner = self.app.partitioner
        partitions = list(range(table.partitions))
        return partitioner(raw_key, partitions, partitions)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe the changelogs (co-partitioned with the streams), and start the cleanup
        of windowed tables."""
        conductor = self.app.conductor
        for table in self.tables.values():
            if table.is_global:
                reader = GlobalReader(table)
                await reader.start()
                self._global_readers.append(reader)
                continue
            topic = table.changelog_topic
            self._by_changelog[topic.get_topic_name()] = table
            conductor.watch_changelog(topic, self)
        if any(table.window_state is not None for table in self.tables.values()):
            task = asyncio.create_task(self._cleanup_loop(), name="strm-table-cleanup")
            self._cleanup_task = task

    async def _cleanup_loop(self) -> None:
        interval = self.app.conf.table_cleanup_interval
        while True:
            await asyncio.sleep(interval)
            await self.cleanup()

    async def cleanup(self) -> None:
        """Close windows whose time is over (``on_window_close``) and remove expired ones."""
        for table in self.tables.values():
            state = table.window_state
            if state is None:
                continue
            closing, expired = state.due()
            for window_key in closing:
                if table.on_window_close is not None:
                    result = table.on_window_close(window_key, state.read(window_key))
                    if inspect.isawaitable(result):
                        await result
            for partition, window_key in expired:
                state.remove(partition, window_key)

    @property
    def changelog_names(self) -> set[str]:
        return set(self._by_changelog)

    async def _follow(self, standby: set[TP]) -> None:
        """Standby partitions: read their changelogs continuously, from where each store is,
        so that taking one over later replays only its tail."""
        consumer = self.app.conductor.consumer
        assert consumer is not None
        beginnings = await consumer.beginning_offsets(standby)
        for tp in sorted(standby):
            applied = self._by_changelog[tp.topic].shard(tp.partition).store.applied_offset(tp)
            consumer.seek(tp, beginnings[tp] if applied is None else applied + 1)
        logger.info("keeping %d standby table partitions up to date", len(standby))

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """The checkpoint before this wrote everything; close the partitions' stores."""
        self._standby -= revoked
        for tp in revoked:
            table = self._by_changelog.get(tp.topic)
            if table is not None:
                table.owned_partitions.discard(tp.partition)
                table.close_shards({tp.partition})

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """Hold the streams and recover in the background: records of the changelogs can only
        be fetched once the rebalance is over."""
        conductor = self.app.conductor
        changelogs = {tp for tp in assigned if tp.topic in self._by_changelog}
        consumer = conductor.consumer
        standby = (consumer.standbys() if consumer is not None else set()) & changelogs
        self._standby |= standby
        active = changelogs - standby
        for tp in active:
            self._by_changelog[tp.topic].owned_partitions.add(tp.partition)
        if standby:
            await self._follow(standby)
        if not active:
            return
        streams = {tp for tp in conductor.assignment if tp.topic not in self._by_changelog}
        conductor.hold(streams | active)
        self._recovered.clear()
        task = asyncio.create_task(self._recover_assigned(active, streams), name="strm-recovery")
        self._tasks.add(task)
        task.add_done_callback(self._recovery_done)

    def _recovery_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            logger.error("table recovery failed: %r", error, exc_info=error)
            self.app.crash(error)
        if not self._tasks:
            self._recovered.set()

    async def wait_recovered(self) -> None:
        """Wait until no recovery is running and every global table has caught up (tasks and
        timers start after recovery)."""
        await self._recovered.wait()
        for reader in self._global_readers:
            await reader.caught_up.wait()

    async def stop(self) -> None:
        if self._cleanup_task is not None:
            self._cleanup_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cleanup_task
            self._cleanup_task = None
        readers, self._global_readers = self._global_readers, []
        for reader in readers:
            await reader.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for table in self.tables.values():
            table.close_shards(set(table._shards))

    async def _recover_assigned(self, active: set[TP], streams: set[TP]) -> None:
        conductor = self.app.conductor
        consumer = conductor.consumer
        assert consumer is not None
        ends = await consumer.end_offsets(active)
        beginnings = await consumer.beginning_offsets(active)
        targets: dict[TP, tuple[int, int]] = {}
        for tp in sorted(active):
            table = self._by_changelog[tp.topic]
            applied = table.shard(tp.partition).store.applied_offset(tp)
            start = beginnings[tp] if applied is None else applied + 1
            end = ends[tp]
            if applied is not None and applied >= end:
                self._inconsistent(table, tp, applied, end)
                start = beginnings[tp]
            if start < end:
                consumer.seek(tp, start)
                targets[tp] = (start, end)
        resume = self._source_offsets_in_stores(active, streams)
        if not targets:
            logger.info(
                "%d table partitions are up to date with their changelogs: nothing to replay",
                len(active),
            )
        if targets:
            recovered_sources = await self._recover(targets)
            for tp, offset in recovered_sources.items():
                resume[tp] = max(resume.get(tp, 0), offset)
        await self._resume_sources(resume, streams)
        conductor.release(streams)
        for table in {self._by_changelog[tp.topic] for tp in active}:
            await table.call_recover_callbacks()

    def _inconsistent(self, table: Collection, tp: TP, applied: int, end: int) -> None:
        message = (
            f"table {table.name!r} partition {tp.partition}: its store says it applied the "
            f"changelog {tp.topic} up to offset {applied}, but the changelog ends at {end} "
            "(was the changelog topic deleted and created again?)"
        )
        if self.app.conf.recovery_consistency_check:
            raise StoreError(
                f"{message}. Delete the table's store files to rebuild it from the changelog, "
                "or set recovery_consistency_check=False to rebuild it automatically."
            )
        logger.warning("%s; rebuilding it from the changelog", message)
        store = table.shard(tp.partition).store
        store.clear()
        table.shard(tp.partition).invalidate()

    def _source_offsets_in_stores(self, active: set[TP], streams: set[TP]) -> dict[TP, int]:
        """The next source offsets the recovered tables already account for, by their stores."""
        resume: dict[TP, int] = {}
        for changelog_tp in active:
            store = self._by_changelog[changelog_tp.topic].shard(changelog_tp.partition).store
            for tp in streams:
                if tp.partition == changelog_tp.partition:
                    applied = store.applied_offset(tp)
                    if applied is not None:
                        resume[tp] = max(resume.get(tp, 0), applied + 1)
        return resume

    async def _resume_sources(self, resume: dict[TP, int], streams: set[TP]) -> None:
        """Skip source records whose table changes were written before a commit that did not
        happen (the worker died in between): processing them again would count them twice."""
        consumer = self.app.conductor.consumer
        assert consumer is not None
        for tp, offset in sorted(resume.items()):
            if tp in streams and offset > await consumer.position(tp):
                logger.info(
                    "%s[%d]: resuming at offset %d: the tables already contain the changes of "
                    "the records before it",
                    tp.topic,
                    tp.partition,
                    offset,
                )
                consumer.seek(tp, offset)

    async def _recover(self, targets: dict[TP, tuple[int, int]]) -> dict[TP, int]:
        recovery = self._recovery = _Recovery(targets)
        consumer = self.app.conductor.consumer
        assert consumer is not None
        self.app.conductor.release(set(targets))  # fetch the changelogs, nothing else
        logger.info(
            "recovering %d table partitions: %d changelog records to replay",
            len(targets),
            recovery.total,
        )
        try:
            while not recovery.finished.is_set():
                try:
                    await asyncio.wait_for(recovery.finished.wait(), PROGRESS_EVERY)
                except TimeoutError:
                    self._log_progress(recovery)
                    for tp in list(recovery.pending):
                        await self._check_recovered(recovery, tp)
        finally:
            self._recovery = None
        elapsed = max(time.monotonic() - recovery.started, 1e-9)
        self.recovered_records += recovery.applied
        self._log_recovered(recovery, targets, elapsed)
        return recovery.sources

    def _log_recovered(
        self, recovery: _Recovery, targets: dict[TP, tuple[int, int]], elapsed: float
    ) -> None:
        logger.info(
            "recovered %d table partitions: %d records in %.2f s (%.0f records/s)",
            len(targets),
            recovery.applied,
            elapsed,
            recovery.applied / elapsed,
        )

    def _log_progress(self, recovery: _Recovery) -> None:
        elapsed = max(time.monotonic() - recovery.started, 1e-9)
        applied = recovery.applied
        logger.info(
            "recovering tables: %d records done, %d left, %.0f records/s",
            applied,
            recovery.total - applied,
            applied / elapsed,
        )

    async def on_changelog_batch(self, tp: TP, messages: Sequence[Message]) -> None:
        """Fetched changelog records: copied into the store, with the offset they reach."""
        recovery = self._recovery
        table = self._by_changelog[tp.topic]
        target = (
            recovery.targets.get(tp) if recovery is not None and tp in recovery.pending else None
        )
        end = target[1] if target is not None else None
        if end is not None and messages and messages[-1].offset >= end:
            messages = [m for m in messages if m.offset < end]
        if messages:
            shard = table.shard(tp.partition)
            puts: dict[bytes, bytes | None] = {}
            for message in messages:
                if message.key is not None:
                    puts[message.key] = message.value
            if recovery is not None:
                _note_sources(recovery.sources, messages)
            await asyncio.to_thread(shard.store.write_batch, puts, {tp: messages[-1].offset})
            shard.invalidate()
            if table.window_state is not None:
                table.window_state.forget_partitions({tp.partition})
            if table.on_changelog_event is not None:
                await self._notify_changelog_events(table, messages)
        if recovery is not None and target is not None:
            recovery.done[tp] += len(messages)
            await self._check_recovered(recovery, tp)

    async def _check_recovered(self, recovery: _Recovery, tp: TP) -> None:
        """A partition is recovered when the consumer's position reaches the end offset taken
        at the start (records or not: compaction and transaction markers leave gaps)."""
        consumer = self.app.conductor.consumer
        if consumer is None or tp not in recovery.pending:
            return
        if await consumer.position(tp) >= recovery.targets[tp][1]:
            recovery.pending.discard(tp)
            self.app.conductor.hold({tp})
            if not recovery.pending:
                recovery.finished.set()

    async def _notify_changelog_events(
        self, table: Collection, messages: Sequence[Message]
    ) -> None:
        await notify_changelog_events(table, messages)

    # -- checkpoints -----------------------------------------------------------------------------

    def has_dirty(self) -> bool:
        return any(
            shard.dirty for table in self.tables.values() for shard in table._shards.values()
        )

    async def send_changelogs(self, offsets: Mapping[TP, int]) -> list[_Flush]:
        """Produce one changelog record per dirty key; the store writes wait for the flush.

        Each record carries, in a header, the source offsets this checkpoint commits for its
        partition, and the store records them too: if the worker dies before the commit, the
        next owner knows these changes are already in the table and resumes after them, so a
        table is not updated twice by the same record.
        """
        flushes: list[_Flush] = []
        if not self.has_dirty():
            return flushes
        sender = await self.app.get_sender()
        sources_of: dict[int, dict[TP, int]] = {}
        for tp, offset in offsets.items():
            sources_of.setdefault(tp.partition, {})[tp] = offset
        for table in self.tables.values():
            name = table.changelog_topic_name
            for shard in table._shards.values():
                changed = shard.take_dirty()
                if not changed:
                    continue
                sources = {} if table.is_global else sources_of.get(shard.partition, {})
                headers = [(HEADER_SOURCE_OFFSETS, _encode_sources(sources))] if sources else []
                puts: dict[bytes, bytes | None] = {}
                delivery: Awaitable[RecordMetadata] | None = None
                for key, value in changed.items():
                    raw_key = table.dumps_key(key)
                    raw_value = None if value is DELETED else table.dumps_value(value)
                    puts[raw_key] = raw_value
                    delivery = await sender.send(
                        name, raw_key, raw_value, partition=shard.partition, headers=headers
                    )
                assert delivery is not None
                flushes.append(
                    _Flush(TP(name, shard.partition), shard, changed, puts, delivery, sources)
                )
        return flushes

    async def write_stores(self, flushes: list[_Flush]) -> None:
        """After the producer flush: each store gets its batch, the changelog offset it now
        contains and the source offsets it accounts for (stored as the last one processed)."""
        for flush in flushes:
            metadata = await flush.delivery
            applied = {flush.tp: metadata.offset}
            applied.update({tp: offset - 1 for tp, offset in flush.sources.items()})
            await asyncio.to_thread(flush.shard.store.write_batch, flush.puts, applied)
            flush.shard.written(flush.changed)


class _Flush:
    __slots__ = ("changed", "delivery", "puts", "shard", "sources", "tp")

    def __init__(
        self,
        tp: TP,
        shard: Shard,
        changed: dict[Any, Any],
        puts: dict[bytes, bytes | None],
        delivery: Awaitable[RecordMetadata],
        sources: dict[TP, int],
    ) -> None:
        self.tp = tp
        self.shard = shard
        self.changed = changed
        self.puts = puts
        self.delivery = delivery
        self.sources = sources


def _note_sources(sources: dict[TP, int], messages: Sequence[Message]) -> None:
    for message in messages:
        for name, value in message.headers:
            if name == HEADER_SOURCE_OFFSETS:
                for tp, offset in _decode_sources(value).items():
                    if offset > sources.get(tp, -1):
                        sources[tp] = offset


def _encode_sources(sources: Mapping[TP, int]) -> bytes:
    return json.dumps([[tp.topic, tp.partition, offset] for tp, offset in sources.items()]).encode()


def _decode_sources(raw: bytes) -> dict[TP, int]:
    return {TP(topic, partition): offset for topic, partition, offset in json.loads(raw)}
