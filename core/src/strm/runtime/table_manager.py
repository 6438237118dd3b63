"""The table manager (the ``TableManager`` extension class): stores, changelogs, recovery.

* **Checkpoint.** Each table partition's changed keys become changelog records; once everything
  sent is on the broker, a seal with the source offsets they account for follows in each
  changelog partition (``strm.runtime.seals``), and the store is written in one batch together
  with the seal's offset and the source offsets, off the event loop. Only then are source
  offsets committed. Readers of a changelog apply only sealed records.
* **Recovery.** When partitions are assigned, the streams of the worker wait while every table
  partition is brought up to date: from the offset its store says it has applied to the
  changelog's end, copying records straight into the store in batches (no decoding). Progress
  (each table's records done and to do, the rate) is logged every second and at the end, and
  given to the sensors (``on_recovery_progress``). Then the changelog partitions are paused
  (this worker writes them; it need not read them back) and the streams resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from strm.kernel.errors import StoreError, StrmError
from strm.kernel.redaction import redact_url
from strm.kernel.source_positions import seal_key
from strm.kernel.spi import TP, Message, Store
from strm.runtime.backend_contexts import store_context
from strm.runtime.changelog_events import notify_changelog_events
from strm.runtime.recovery_progress import Recovery
from strm.runtime.seals import SEAL_KEY, SealedBatch, SealedReader, encode_seal
from strm.runtime.table_changes import Seal, ShardChanges, Written
from strm.tables.global_table import GlobalReader
from strm.tables.shard import DELETED

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.tables.table import Collection

logger = logging.getLogger("strm.tables")

PROGRESS_EVERY = 1.0


class TableManager:
    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.tables: dict[str, Collection] = {}
        self._by_changelog: dict[str, Collection] = {}
        self._recovery: Recovery | None = None
        self.recovered_records = 0
        self._tasks: set[asyncio.Task[BaseException | None]] = set()
        self._recovered = asyncio.Event()
        self._recovered.set()
        self._cleanup_task: asyncio.Task[BaseException | None] | None = None
        self._global_readers: list[GlobalReader] = []
        #: Changelog partitions this worker keeps as standby copies.
        self._standby: set[TP] = set()
        #: Changelog records read and not sealed yet, by partition.
        self._sealed_reader = SealedReader(self._by_changelog)

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
            context = store_context(app, table.name, partition, table.options)
            store: Store = factory(url=url, context=context)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"table {table.name!r} partition {partition}: cannot open its store "
                f"{redact_url(url)!r}: "
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
            task = self.app.runtime.spawn(self._cleanup_loop(), name="strm-table-cleanup")
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
                    await self._close_window(table, window_key, state.read(window_key))
            for partition, window_key in expired:
                state.remove(partition, window_key)

    async def _close_window(self, table: Collection, window_key: Any, value: Any) -> None:
        """Call the table's ``on_window_close``; an error is the callback's, not the
        cleanup's: logged with the window, and the other windows still close."""
        callback = table.on_window_close
        assert callback is not None
        try:
            result = callback(window_key, value)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception(
                "table %r: on_window_close raised for window %r; the next windows still close",
                table.name,
                window_key,
            )

    @property
    def changelog_names(self) -> set[str]:
        return set(self._by_changelog)

    def is_standby(self, table: Collection, partition: int) -> bool:
        """Whether this worker keeps ``partition`` of ``table`` as a standby copy."""
        return TP(table.changelog_topic_name, partition) in self._standby

    async def _follow(self, standby: set[TP]) -> None:
        """Standby partitions: read their changelogs continuously, from where each store is,
        so that taking one over later replays only its tail."""
        consumer = self.app.conductor.consumer
        assert consumer is not None
        beginnings = await consumer.beginning_offsets(standby)
        self._sealed_reader.forget(standby)
        for tp in sorted(standby):
            applied = self._by_changelog[tp.topic].shard(tp.partition).store.applied_offset(tp)
            consumer.seek(tp, beginnings[tp] if applied is None else applied + 1)
        logger.info("keeping %d standby table partitions up to date", len(standby))

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """The checkpoint before this wrote everything; close the partitions' stores. A
        recovery of revoked partitions stops: the next assignment recovers what it assigns."""
        recovery = self._recovery
        if recovery is not None and not revoked.isdisjoint(recovery.targets):
            for task in self._tasks:
                task.cancel()
        self._standby -= revoked
        self._sealed_reader.forget(revoked)
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
        task = self.app.runtime.spawn(
            self._recover_assigned(active, streams), name="table recovery"
        )
        self._tasks.add(task)
        task.add_done_callback(self._recovery_done)

    def _recovery_done(self, task: asyncio.Task[BaseException | None]) -> None:
        """A failed recovery has stopped the app (strm.runtime); the start raises it."""
        self._tasks.discard(task)
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
        if consumer is None:  # assigned while the worker stops (a rebalance its stop caused)
            return
        ends = await consumer.end_offsets(active)
        beginnings = await consumer.beginning_offsets(active)
        self._sealed_reader.forget(active)
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
        if not targets:
            logger.info(
                "%d table partitions are up to date with their changelogs: nothing to replay",
                len(active),
            )
        if targets:
            await self._recover(targets)
        resume = self._sealed_source_offsets(active, streams)
        self._restore_source_positions(active, streams)
        # What no seal followed is dropped: the records that made it are processed again.
        self._sealed_reader.forget(active)
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

    def _sealed_source_offsets(self, active: set[TP], streams: set[TP]) -> dict[TP, int]:
        """For each source partition, the next offset whose changes *every* co-partitioned
        table holds, by the source offsets of the last seal each store applied.

        The lowest one: a kill between two tables' seals leaves one table a checkpoint ahead,
        and resuming at its seal would lose the other's changes. A table that holds no seal
        but read records no seal followed knows nothing: the committed offset stands.
        """
        resume: dict[TP, int] = {}
        for tp in streams:
            lowest: int | None = None
            for changelog_tp in active:
                if changelog_tp.partition != tp.partition:
                    continue
                table = self._by_changelog[changelog_tp.topic]
                applied = table.shard(changelog_tp.partition).store.applied_offset(tp)
                if applied is None:
                    if self._sealed_reader.has_unsealed(changelog_tp):
                        lowest = -1
                        break
                    continue
                lowest = applied + 1 if lowest is None else min(lowest, applied + 1)
            if lowest is not None and lowest >= 0:
                resume[tp] = lowest
        return resume

    def _restore_source_positions(self, active: set[TP], streams: set[TP]) -> None:
        """Each repartition stream's source positions (``strm.kernel.source_positions``), as every
        co-partitioned table's store holds them: the lowest, and none where one table has
        none, so that only a record every table holds is skipped as a copy."""
        conductor = self.app.conductor
        for tp in streams:
            for sub in conductor.subscriptions.get(tp.topic, ()):
                positions = sub.source_positions
                if positions is None:
                    continue
                stores = [
                    self._by_changelog[changelog_tp.topic].shard(changelog_tp.partition).store
                    for changelog_tp in active
                    if changelog_tp.partition == tp.partition
                ]
                processed: dict[TP, int] = {}
                for name in positions.sources:
                    count = conductor.partition_counts.get(name) or self.app.conf.topic_partitions
                    for partition in range(count):
                        source = TP(name, partition)
                        held = [
                            store.applied_offset(seal_key(positions.topic, source))
                            for store in stores
                        ]
                        if held and None not in held:
                            processed[source] = min(h for h in held if h is not None)
                positions.restore(tp.partition, processed)

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

    async def _recover(self, targets: dict[TP, tuple[int, int]]) -> None:
        recovery = self._recovery = Recovery(targets)
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
                    self._report(recovery, finished=False)
                    for tp in list(recovery.pending):
                        await self._check_recovered(recovery, tp, between_batches=True)
        finally:
            if self._recovery is recovery:  # not the recovery of a later assignment
                self._recovery = None
        self.recovered_records += recovery.applied
        self._report(recovery, finished=True)

    def _report(self, recovery: Recovery, *, finished: bool) -> None:
        progress = recovery.progress(self._by_changelog, finished=finished)
        logger.info("%s", progress.describe())
        self.app.sensors.on_recovery_progress(progress)

    async def on_changelog_batch(self, tp: TP, messages: Sequence[Message]) -> None:
        """Fetched changelog records: copied into the store once their seal is read, with the
        seal's offset and the source offsets it accounts for."""
        recovery = self._recovery
        if recovery is None:
            await self._read_changelog(tp, messages)
            return
        # The fetch loop hands a fetch's batches over one after the other without pausing in
        # between, so while none is in hand here every record fetched is in the stores.
        recovery.busy = True
        try:
            await self._read_changelog(tp, messages)
        finally:
            recovery.busy = False

    async def _read_changelog(self, tp: TP, messages: Sequence[Message]) -> None:
        recovery = self._recovery
        table = self._by_changelog[tp.topic]
        target = (
            recovery.targets.get(tp) if recovery is not None and tp in recovery.pending else None
        )
        end = target[1] if target is not None else None
        if end is not None and messages and messages[-1].offset >= end:
            messages = [m for m in messages if m.offset < end]
        sealed = self._sealed_reader.read(tp, messages) if messages else None
        if sealed is not None:
            await self._apply_sealed(table, tp, sealed)
        if recovery is not None and target is not None:
            recovery.done[tp] += len(messages)
            await self._check_recovered(recovery, tp)

    async def _apply_sealed(self, table: Collection, tp: TP, sealed: SealedBatch) -> None:
        shard = table.shard(tp.partition)
        applied = {tp: sealed.seal.offset}
        applied.update({source: offset - 1 for source, offset in sealed.sources.items()})
        await asyncio.to_thread(shard.store.write_batch, sealed.puts(), applied)
        shard.invalidate()
        if table.window_state is not None:
            table.window_state.forget_partitions({tp.partition})
        if table.on_changelog_event is not None:
            await self._notify_changelog_events(table, sealed.table_records())

    async def _check_recovered(
        self, recovery: Recovery, tp: TP, *, between_batches: bool = False
    ) -> None:
        """A partition is recovered when the consumer's position reaches the end offset taken
        at the start (records or not: compaction and transaction markers leave gaps). Checked
        after each batch, and every second for partitions whose records stopped coming; that
        check counts only ``between_batches``, when no fetched record waits to be stored."""
        consumer = self.app.conductor.consumer
        if consumer is None or tp not in recovery.pending:
            return
        position = await consumer.position(tp)
        if between_batches and recovery.busy:
            return
        if position >= recovery.targets[tp][1]:
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

    def take_changes(self) -> list[ShardChanges]:
        """Every table partition's changes since the last checkpoint. Synchronous, so that a
        checkpoint takes them together with the source offsets they account for."""
        return [
            ShardChanges(table, shard, changed)
            for table in self.tables.values()
            for shard in table._shards.values()
            if (changed := shard.take_dirty())
        ]

    async def send_changes(self, changes: list[ShardChanges]) -> list[Written]:
        """Produce one changelog record per changed key (the snapshot is taken: agents may
        change the tables again meanwhile)."""
        written: list[Written] = []
        if not changes:
            return written
        sender = await self.app.get_sender()
        for change in changes:
            table, shard = change.table, change.shard
            name = table.changelog_topic_name
            dumps_key, dumps_value = table.dumps_key, table.dumps_value
            puts: dict[bytes, bytes | None] = {
                dumps_key(key): None if value is DELETED else dumps_value(value)
                for key, value in change.changed.items()
            }
            delivery = await sender.send_batch(name, shard.partition, list(puts.items()))
            written.append(Written(change, TP(name, shard.partition), puts, delivery))
        return written

    async def send_seals(
        self,
        offsets: Mapping[TP, int],
        written: list[Written],
        positions: Mapping[int, Mapping[TP, int]] | None = None,
    ) -> list[Seal]:
        """One seal per table partition this checkpoint covers: each partition with changes,
        and each partition whose source partitions' offsets advance (so that every table
        co-partitioned with a source records how far it accounts for it), with the source
        ``positions`` of the repartition streams of that partition. Global tables have no
        seals: every worker reads them whole, from the start."""
        sources_of: dict[int, dict[TP, int]] = {}
        for tp, offset in offsets.items():
            sources_of.setdefault(tp.partition, {})[tp] = offset
        changed = {(w.change.table.name, w.tp.partition): w for w in written}
        seals: list[Seal] = []
        sender = None
        for table in self.tables.values():
            if table.is_global:
                continue
            name = table.changelog_topic_name
            partitions = (set(sources_of) & table.owned_partitions) | {
                partition for table_name, partition in changed if table_name == table.name
            }
            for partition in sorted(partitions):
                sender = sender or await self.app.get_sender()
                sources = {**sources_of.get(partition, {}), **(positions or {}).get(partition, {})}
                delivery = await sender.send(
                    name, SEAL_KEY, encode_seal(sources), partition=partition
                )
                tp = TP(name, partition)
                seals.append(Seal(tp, table.shard(partition), sources, delivery))
        return seals

    async def write_stores(self, written: list[Written], seals: list[Seal]) -> None:
        """Once the seals are on the broker: each sealed store gets its checkpoint's records,
        the seal's offset and the source offsets (as the last one processed); a global table's
        store gets its records and the offset of the last."""
        changes = {(w.tp.topic, w.tp.partition): w for w in written}
        for seal in seals:
            metadata = await seal.delivery
            applied = {seal.tp: metadata.offset}
            applied.update({tp: offset - 1 for tp, offset in seal.sources.items()})
            change = changes.pop((seal.tp.topic, seal.tp.partition), None)
            puts = change.puts if change is not None else {}
            await asyncio.to_thread(seal.shard.store.write_batch, puts, applied)
            if change is not None:
                seal.shard.written(change.change.changed)
        for change in changes.values():  # global tables
            metadata = await change.delivery
            shard = change.change.shard
            await asyncio.to_thread(
                shard.store.write_batch, change.puts, {change.tp: metadata.offset}
            )
            shard.written(change.change.changed)
