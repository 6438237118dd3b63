"""The conductor: the app's consumer loop, commits and rebalances.

It fetches batches from the transport's consumer and puts each batch into the inbox of every
stream reading that topic — one hand-off per batch, not per record. A checkpoint (every
``broker_commit_interval`` seconds, or sooner after ``broker_commit_every`` records) flushes what
the processed events sent and then commits, per partition, the lowest offset every reader of
that partition has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from strm.channels import Subscription, Topic
from strm.kernel.checkpoint_gate import CheckpointGate
from strm.kernel.errors import StrmError
from strm.kernel.spi import TP, Consumer, Message
from strm.kernel.transports import TransportError
from strm.runtime import conductor_topics, conductor_watch
from strm.runtime.inbox import Inbox
from strm.runtime.leader import LeaderAssignor
from strm.runtime.rebalance_clock import RebalanceClock

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.streams import Stream

logger = logging.getLogger("strm.conductor")

FETCH_TIMEOUT = 0.5
#: Most records of the first fetch into the streams: the agents wait for it, and the client
#: turns every record a fetch brings into an object first (65,536 records: about 0.15 s).
FIRST_FETCH_RECORDS = 1_000
#: How long a checkpoint waits for the records in flight to finish before its snapshot.
QUIESCE_TIMEOUT = 0.5
QUIESCE_POLL = 0.001


class PartitionListener(Protocol):
    async def on_partitions_assigned(self, assigned: set[TP]) -> None: ...

    async def on_partitions_revoked(self, revoked: set[TP]) -> None: ...


class ChangelogReader(PartitionListener, Protocol):
    async def on_changelog_batch(self, tp: TP, messages: Sequence[Message]) -> None: ...


class Conductor:
    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.subscriptions: dict[str, list[Subscription]] = {}
        self.topics: dict[str, Topic] = {}
        self.consumer: Consumer | None = None
        self.assignment: set[TP] = set()
        self.committed: dict[TP, int] = {}
        self._full, self._paused = set[Inbox](), set[TP]()
        self._room = asyncio.Event()  # set when a full stream buffer has drained
        self._processed_since_commit = 0
        self._writing_since: float | None = None  # the snapshot of the checkpoint in flight
        self._commit_wanted = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[BaseException | None]] = []
        self._declared, self._checked = set[str](), set[str]()
        #: Partition counts of the topics read, as the broker reported them (tables compare
        #: theirs with the topics that update them).
        self.partition_counts: dict[str, int] = {}
        self._fetched_upto: dict[TP, int] = {}
        self._stalled_since: dict[TP, float] = {}
        self.rebalance = RebalanceClock(app)
        self.needs_leader = self.running = False
        self.partition_listeners: list[PartitionListener] = []
        self.pattern_subscriptions: list[Subscription] = []
        self.changelogs: dict[str, ChangelogReader] = {}
        self._held: set[TP] = set()
        #: Every partition paused by ``app.flow_control.suspend()``.
        self.suspended = False
        # stream_recovery_delay: assigned partitions waiting for the group to settle, and those
        # whose listeners are being told; both stay paused.
        self._delayed, self._announcing = set[TP](), set[TP]()
        self._delay_timer: asyncio.Task[BaseException | None] | None = None
        self._settled = asyncio.Event()
        self._settled.set()
        self._leader: LeaderAssignor | None = None
        self.gate = CheckpointGate()

    # -- subscriptions ---------------------------------------------------------------------------

    def add_subscription(self, sub: Subscription) -> None:
        topic = sub.channel
        assert isinstance(topic, Topic)
        sub.inbox.set_callbacks(self._on_inbox_full, self._on_inbox_drained)
        if topic.pattern is not None:
            self.pattern_subscriptions.append(sub)
            for name in self.subscriptions:
                if re.fullmatch(topic.pattern, name):
                    self.subscriptions[name].append(sub)
            if self.running:
                self._spawn(self._resubscribe_or_start(), "strm-resubscribe")
            return
        new_names = []
        for name in topic.topics:
            if name not in self.subscriptions:
                new_names.append(name)
            self.subscriptions.setdefault(name, []).append(sub)
            self.topics.setdefault(name, topic)
        if new_names and self.running:
            self._spawn(self._resubscribe_or_start(), "strm-resubscribe")

    def remove_subscription(self, sub: Subscription) -> None:
        for subs in self.subscriptions.values():
            if sub in subs:
                subs.remove(sub)

    @property
    def leader(self) -> LeaderAssignor:
        if self._leader is None:
            self._leader = self.app.extension_class("LeaderAssignor")(self.app)
        return self._leader

    @property
    def leader_topic(self) -> str:
        return self.leader.topic

    def watch_partitions(self, topic: Topic, listener: PartitionListener) -> None:
        """Read ``topic`` and tell ``listener`` which of its partitions this worker gets."""
        for name in topic.topics:
            self.topics.setdefault(name, topic)
            self.subscriptions.setdefault(name, [])
        self.partition_listeners.append(listener)

    def watch_changelog(self, topic: Topic, manager: ChangelogReader) -> None:
        """Read a table's changelog in the group (co-partitioned with the streams), handing its
        batches to ``manager`` rather than to streams."""
        for name in topic.topics:
            self.topics.setdefault(name, topic)
            self.changelogs[name] = manager
        if manager not in self.partition_listeners:
            self.partition_listeners.append(manager)

    def suspend(self, suspended: bool) -> None:
        """Pause every assigned partition (``app.flow_control``), or go back to pausing only
        those that wait."""
        self.suspended = suspended
        self._update_paused()

    def hold(self, tps: set[TP]) -> None:
        """Stop fetching these partitions until :meth:`release` (recovery uses this)."""
        self._held |= tps
        self._update_paused()

    def release(self, tps: set[TP]) -> None:
        self._held -= tps
        self._update_paused()

    def topic_names(self) -> set[str]:
        names = {
            name
            for name, subs in self.subscriptions.items()
            if any(sub.channel.pattern is None for sub in subs) or not subs
        }
        names |= set(self.changelogs)
        if self.needs_leader or names or self.pattern_subscriptions:
            if not self.app.conf.topic_disable_leader:
                names.add(self.leader_topic)
            elif self.needs_leader:
                raise StrmError(
                    "on_leader=True needs the leader election topic, but topic_disable_leader "
                    "is set; remove one of them"
                )
        return names

    def is_leader(self) -> bool:
        return self.leader.is_leader(self.assignment)

    # -- topics (the checks live in strm.runtime.conductor_topics) -------------------------------

    async def declare(self, topic: Topic) -> None:
        """Create a topic's topics when strm owns them (internal) or they name a partition
        count, and ``topic_allow_declare`` permits; check the partition count of those that
        exist already."""
        await conductor_topics.declare(self, topic)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the group when there is something to read; later subscriptions join then."""
        self.running = True
        self._spawn(self._commit_loop(), "strm-commit")
        if self.topic_names() or self.pattern_subscriptions:
            await self._start_consuming()

    async def _start_consuming(self) -> None:
        if self.consumer is not None:
            return
        names = self.topic_names()
        for topic in set(self.topics.values()):
            await self.declare(topic)
        await conductor_topics.check_before_join(self, names)
        conf = self.app.conf
        consumer = self.app.transport("broker_consumer").create_consumer(
            group_id=conf.id, client_id=conf.broker_client_id
        )
        self.consumer = consumer
        consumer.subscribe(sorted(names), self, self.pattern())
        await consumer.start()
        self._spawn(self._fetch_loop(), "strm-fetch")
        self._spawn(conductor_watch.watch_loop(self), "strm-watch")

    async def stop(self) -> None:
        """Stop fetching, commit what is done, leave the group."""
        self.running = False
        tasks, self._tasks = self._tasks, []
        if self._delay_timer is not None:
            tasks.append(self._delay_timer)
            self._delay_timer = None
        for task in tasks:
            task.cancel()
        # A task that failed is raised once the consumer has left the group, not before.
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failure = next(
            (r for r in results if isinstance(r, Exception)),
            None,
        )
        try:
            await self.checkpoint()
        finally:
            consumer, self.consumer = self.consumer, None
            if consumer is not None:
                await consumer.stop()
            if failure is not None:
                raise failure

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """A task of the runtime: its failure stops the app (strm.runtime)."""
        self._tasks.append(self.app.runtime.spawn(coro, name=name))

    async def _resubscribe_or_start(self) -> None:
        if self.consumer is None:
            await self._start_consuming()
            return
        for topic in set(self.topics.values()):
            await self.declare(topic)
        names = self.topic_names()
        await conductor_topics.check_source_topics(self, names)
        self.consumer.subscribe(sorted(names), self, self.pattern())

    def pattern(self) -> str | None:
        """One regex for every pattern topic, or ``None``."""
        patterns = sorted(
            {sub.channel.pattern for sub in self.pattern_subscriptions if sub.channel.pattern}
        )
        return "|".join(f"(?:{p})" for p in patterns) if patterns else None

    def _route_pattern_topics(self, tps: set[TP]) -> None:
        """Newly seen topics matched by a pattern get that pattern's readers."""
        for name in {tp.topic for tp in tps} - set(self.subscriptions):
            readers = [
                sub
                for sub in self.pattern_subscriptions
                if sub.channel.pattern and re.fullmatch(sub.channel.pattern, name)
            ]
            if readers:
                self.subscriptions[name] = readers
                self.topics[name] = readers[0].channel  # type: ignore[assignment]

    # -- the fetch loop --------------------------------------------------------------------------

    async def _fetch_loop(self) -> None:
        consumer = self.consumer
        assert consumer is not None
        subscriptions = self.subscriptions
        fetched_upto = self._fetched_upto
        sensors = self.app.sensors
        order = self._scheduler().order
        changelogs = self.changelogs
        first = True  # until a fetch has brought records
        while True:
            budget = self._fetch_budget()
            if budget == 0:
                budget = await self._wait_for_room()
            if first and budget is not None:
                budget = min(budget, FIRST_FETCH_RECORDS)
            batches = await consumer.getmany(FETCH_TIMEOUT, budget)
            for tp, messages in order(batches):
                readers = subscriptions.get(tp.topic)
                if not readers or not messages:
                    changelog = changelogs.get(tp.topic)
                    if changelog is not None and messages:
                        await changelog.on_changelog_batch(tp, messages)
                    continue
                for sub in readers:
                    if sub.partition is None or sub.partition == tp.partition:
                        sub.inbox.put(tp, messages)
                fetched_upto[tp] = messages[-1].offset
                sensors.on_batch_in(tp, len(messages))
            if first and batches:  # the agents take these before the next fetch is unpacked
                first = False
                await asyncio.sleep(0)

    def processed(self, count: int) -> None:
        """A root stream finished ``count`` records (called once per batch). As in Faust,
        ``broker_commit_every`` counts records processed, not fetched: a count of fetched records
        is spent while the agent is still busy, and what it processes after the commit waits for
        the interval. The streams go on while a checkpoint is written, but not past
        ``broker_commit_interval`` after its snapshot (bench/README.md, "How far the streams
        run ahead of a checkpoint"): what a crash replays stays bounded however slow the
        broker or the disk, and a fast checkpoint never stops them."""
        self._processed_since_commit += count
        if self._processed_since_commit >= self.app.conf.broker_commit_every:
            self._commit_wanted.set()
        since = self._writing_since
        if since is not None and time.monotonic() - since >= self.app.conf.broker_commit_interval:
            self.gate.close()  # the checkpoint in flight opens it; the next closes it again

    def _scheduler(self) -> Any:
        chosen = self.app.conf.ConsumerScheduler
        if isinstance(chosen, str):
            chosen = self.app.plugins.resolve(
                "consumer_scheduler", chosen, setting="ConsumerScheduler"
            ).factory
        return chosen()

    # -- back-pressure ---------------------------------------------------------------------------

    def _fetch_budget(self) -> int | None:
        """Most records the next fetch may bring: the least room among the stream buffers that
        are not full (a full one's partitions are paused), so that no fetch puts more into a
        buffer than its limit (``stream_buffer_maxsize``). 0 when every buffer is full; ``None``
        when no topic is read into a stream (only changelogs, whose records go to the tables)."""
        inboxes = [sub.inbox for subs in self.subscriptions.values() for sub in subs]
        if not inboxes:
            return None
        return min((inbox.room for inbox in inboxes if not inbox.full), default=0)

    async def _wait_for_room(self) -> int:
        """Every stream buffer is full (their partitions paused): wait, at most
        ``FETCH_TIMEOUT``, for one to drain rather than fetch. Such a fetch would wait for the
        partitions still fetched (the leader topic's, changelogs), up to the transport's own
        timeout, and the drained buffer's records would wait with it. Past the timeout the fetch
        happens anyway, for those partitions (a transport must be polled to stay in its
        group)."""
        self._room.clear()
        # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that arrives as
        # the event is set, and stop() would wait forever for this loop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FETCH_TIMEOUT):
                await self._room.wait()
        return self._fetch_budget() or self.app.conf.stream_buffer_maxsize

    def _on_inbox_full(self, inbox: Inbox) -> None:
        self._full.add(inbox)
        self._update_paused()

    def _on_inbox_drained(self, inbox: Inbox) -> None:
        self._full.discard(inbox)
        self._update_paused()
        self._room.set()

    def _update_paused(self) -> None:
        if self.consumer is None:
            return
        full_topics = {
            name
            for name, subs in self.subscriptions.items()
            if any(sub.inbox in self._full for sub in subs)
        }
        waiting = self._held | self._delayed | self._announcing
        if self.suspended:  # app.flow_control.suspend()
            wanted = set(self.assignment)
        else:
            wanted = {tp for tp in self.assignment if tp.topic in full_topics or tp in waiting}
        pause, resume = wanted - self._paused, self._paused - wanted
        if pause:
            self.consumer.pause(pause)
        if resume:
            self.consumer.resume(resume)
        self._paused = wanted

    # -- commits ---------------------------------------------------------------------------------

    def committable(self) -> dict[TP, int]:
        """Next offsets to commit: for each partition, one past the lowest offset finished by
        every reader, where that moved since the last commit."""
        offsets: dict[TP, int] = {}
        for tp in self.assignment:
            readers = self.subscriptions.get(tp.topic)
            topic = self.topics.get(tp.topic)
            if not readers or topic is None or not topic.acks:
                continue
            low: int | None = None
            for sub in readers:
                if sub.partition is not None and sub.partition != tp.partition:
                    continue
                done = sub.progress.done.get(tp)
                if done is None:
                    low = None
                    break
                low = done if low is None else min(low, done)
            if low is not None and low + 1 > self.committed.get(tp, -1):
                offsets[tp] = low + 1
        return offsets

    async def checkpoint(self) -> None:
        """Snapshot the finished events' offsets with what they did (table changes, sends),
        between two events; make both durable; commit. The gate stays closed only until the
        snapshot is taken: under exactly-once, what the streams send meanwhile waits for the
        next transaction (strm.runtime.snapshots)."""
        runtime = self.app.runtime
        async with self._commit_lock:
            gate = self.gate
            gate.close()
            try:
                await self._wait_between_events()
                offsets = self.committable()
                snapshot = runtime.snapshot()  # with the offsets: no await in between
                positions = self.source_positions()
                gate.open()
                self._processed_since_commit = 0
                started = self._writing_since = time.monotonic()
                if not offsets and not snapshot.changes and not runtime.has_pending_writes():
                    return
                await runtime.checkpoint(offsets, self.consumer, snapshot, positions)
            finally:
                self._writing_since = None
                gate.open()
                runtime.checkpoint_ended()
            self.committed.update(offsets)
            now = time.monotonic()
            self.app.sensors.on_commit(offsets, now - started)
            for tp in offsets:
                self._stalled_since.pop(tp, None)

    def source_positions(self) -> dict[int, dict[TP, int]]:
        """The positions the repartition streams have processed, by partition, as seals keep
        them (``strm.kernel.source_positions``)."""
        positions: dict[int, dict[TP, int]] = {}
        for subs in self.subscriptions.values():
            for sub in subs:
                held = sub.source_positions
                if held is not None:
                    for partition in held.partitions():
                        positions.setdefault(partition, {}).update(held.snapshot(partition))
        return positions

    def _readers(self) -> Iterator[Stream]:
        """Every stream reading a subscription of this worker."""
        for subs in self.subscriptions.values():
            for sub in subs:
                yield from sub.readers

    async def _wait_between_events(self) -> None:
        """Until no stream has a record in flight, for at most ``QUIESCE_TIMEOUT`` seconds.

        Past that (an agent awaits something the closed gate holds back, such as the reply of
        another agent of this worker), the snapshot is taken anyway: the changes of the events
        in flight are in it without their offsets, so after a crash those events would change
        the tables a second time. That is said in a warning.
        """
        deadline: float | None = None
        while True:
            busy = [s.busy_message for s in self._readers() if s.busy_message is not None]
            if not busy:
                return
            now = time.monotonic()
            if deadline is None:
                deadline = now + QUIESCE_TIMEOUT
            elif now >= deadline:
                logger.warning(
                    "checkpoint: %d records still in flight after %.1f s (%s); taking the "
                    "snapshot without waiting for them: after a crash their table changes "
                    "would be applied twice",
                    len(busy),
                    QUIESCE_TIMEOUT,
                    ", ".join(f"{m.topic}[{m.partition}]@{m.offset}" for m in busy[:5]),
                )
                return
            await asyncio.sleep(QUIESCE_POLL)

    async def _commit_loop(self) -> None:
        interval = self.app.conf.broker_commit_interval
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):  # not wait_for: see _wait_for_room
                    await self._commit_wanted.wait()
            self._commit_wanted.clear()
            await self.checkpoint()

    # -- rebalances (called by the consumer) ------------------------------------------------------

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.rebalance.start()
        if not revoked:
            return
        for subs in self.subscriptions.values():
            for sub in subs:
                sub.inbox.discard(revoked)
        if self.app.conf.stream_wait_empty:
            await self._wait_idle(revoked)
        await self.checkpoint()
        for subs in self.subscriptions.values():
            for sub in subs:
                sub.progress.forget(revoked)
                if sub.source_positions is not None:
                    sub.source_positions.forget(
                        tp.partition for tp in revoked if tp.topic == sub.source_positions.topic
                    )
        self.app.producers.forget_held(revoked)
        for tp in revoked:
            self.committed.pop(tp, None)
            self._fetched_upto.pop(tp, None)
            self._stalled_since.pop(tp, None)
        self.assignment -= revoked
        self._paused -= revoked
        self._held -= revoked
        self._delayed -= revoked
        for listener in self.partition_listeners:
            await listener.on_partitions_revoked(revoked)
        self.app.sensors.on_partitions_revoked(revoked)
        await self.app.notify_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        self.rebalance.start()
        self._route_pattern_topics(assigned)
        await self._learn_partition_counts(assigned)
        self.assignment |= assigned
        delay = self.app.conf.stream_recovery_delay
        if not delay:
            await self._announce(assigned)
            return
        # Not a sleep here: the transport waits for this listener before it heartbeats again,
        # and a rebalance that starts meanwhile must be noticed. The partitions stay paused;
        # each assignment restarts the wait, so recovery begins once the group is quiet.
        self._delayed |= assigned
        self._settled.clear()
        self._update_paused()
        if self._delay_timer is not None:
            self._delay_timer.cancel()
        self._delay_timer = self.app.runtime.spawn(self._after_delay(delay), name="strm-delay")

    async def _after_delay(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._delay_timer = None  # from here on, a new assignment starts a timer of its own
        ready, self._delayed = self._delayed & self.assignment, set()
        self._announcing |= ready
        try:
            await self._announce(ready)
        finally:
            self._announcing -= ready
            self._update_paused()
            if not (self._delayed or self._announcing):
                self._settled.set()

    async def _announce(self, assigned: set[TP]) -> None:
        """Tell the partition listeners (tables: recovery), the sensors and the plugins."""
        self._update_paused()
        for listener in self.partition_listeners:
            await listener.on_partitions_assigned(assigned)
        self.rebalance.announced(assigned)  # the sensors' on_partitions_assigned, then the end
        await self.app.notify_partitions_assigned(assigned)

    async def wait_settled(self) -> None:
        """Wait until the partitions assigned so far were announced (``stream_recovery_delay``
        has passed since the last assignment)."""
        await self._settled.wait()

    async def _learn_partition_counts(self, assigned: set[TP]) -> None:
        """Ask the broker for the partition counts of newly assigned topics (pattern matches,
        topics created on use) once, so that a table can check the topics updating it."""
        # The leader topic is strm's own and updates no table: asking for it would cost the
        # first assignment a round trip to the broker before the first fetch.
        unknown = {tp.topic for tp in assigned} - self.partition_counts.keys()
        unknown.discard(self.leader_topic)
        if not unknown:
            return
        admin = self.app.transport("broker_producer").create_admin()
        for name in sorted(unknown):
            try:
                count = await admin.partition_count(name)
            except TransportError as exc:
                logger.warning("partition count of %s unknown (%s): not checked", name, exc)
                continue
            if count is not None:
                self.partition_counts[name] = count

    async def _wait_idle(self, revoked: Iterable[TP]) -> None:
        revoked = set(revoked)
        limit = time.monotonic() + self.app.conf.broker_session_timeout * 0.9
        while time.monotonic() < limit:
            busy = [stream for stream in self._readers() if stream.busy_tp in revoked]
            if not busy:
                return
            await asyncio.sleep(0.005)
        logger.warning("rebalance: gave up waiting for events in flight on revoked partitions")
