"""Streams: iteration over a channel or topic, and Faust's stream operators.

A root stream reads batches from its subscription's inbox and iterates each batch without
awaiting; asking for the next event marks the previous one done (see :mod:`strm.runtime.progress`).
Operators build derived streams whose iteration drives their parent's. Operators that need
events to outlive one iteration step (``take``, ``noack``, ``tee``, ``combine``) switch the root
to explicit acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import types
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from strm.channels import Channel, Subscription, Topic
from strm.events import Event, current_stream
from strm.kernel.errors import StrmError
from strm.kernel.source_positions import with_position
from strm.kernel.spi import TP, Message
from strm.runtime.progress import Progress

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

logger = logging.getLogger("strm.streams")

#: Passed up a chain of streams when a ``take(within=...)`` deadline passes with no event.
TICK: Any = object()

_EVENTS, _VALUES, _ITEMS = 0, 1, 2

#: Longest a stream works through buffered events before it gives the event loop a turn, so
#: that timers, the consumer's heartbeats, fetches and other agents wait at most about this
#: long (plus the time of the events between two looks at the clock). Without it a stream
#: whose buffer never empties would never give the loop up: taking a buffered batch does not
#: wait. Not shorter: a thread waiting for the GIL (a store write in ``asyncio.to_thread``)
#: asks for it only after 5 ms (``sys.getswitchinterval()``) without the loop releasing it,
#: and each turn releases it.
STREAM_TURN = 0.01
#: Loop iterations a turn gives at least: a network reply or a thread's result reaches the task
#: awaiting it through a chain of callbacks, one per iteration (socket, reader, request,
#: waiter), so with one iteration per turn each step of a checkpoint would take several turns.
TURN_ITERATIONS = 8
#: An iteration in which no other task had anything to do takes a few microseconds: one that
#: takes longer means others are busy (a large fetch response is read a chunk per iteration),
#: and the turn goes on, up to ``STREAM_TURN``.
QUIET_ITERATION = 50e-6
#: The clock is read at the start of each batch and then every 64 events: reading it for
#: every event would cost more than the turns themselves.
CLOCK_EVERY_MASK = 63


class Stream:
    """``async for value in stream``; ``stream.items()``, ``stream.events()`` and operators."""

    def __init__(
        self,
        app: AppLike,
        *,
        subscription: Subscription | None = None,
        iterable: Iterable[Any] | AsyncIterable[Any] | None = None,
        parent: Stream | None = None,
        transform: Callable[[Stream, AsyncIterator[Any]], AsyncIterator[Any]] | None = None,
        pumps: tuple[Callable[[], Awaitable[None]], ...] = (),
        shared: bool = False,
    ) -> None:
        self.app = app
        self.subscription = subscription
        self._iterable = iterable
        self.parent = parent
        self._transform = transform
        self._pumps = pumps
        self.shared = shared
        self.current_event: Event | None = None
        self.busy_message: Message | None = None
        self.explicit_acks = False
        self._stream_acks: _StreamAcks | None = None
        self.deadline: float | None = None
        self.stopped = asyncio.Event()
        self._iterators: list[AsyncGenerator[Any, None]] = []
        self._pump_tasks: list[asyncio.Task[None]] = []
        #: The stream this one was derived from, and the last one derived from it (Faust's
        #: chain: ``group_by`` and ``through`` continue on another channel's stream).
        self._prev: Stream | None = parent
        self._next: Stream | None = None

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        """``Stream[Order]`` in annotations, as Faust's streams allow."""
        return types.GenericAlias(cls, item)

    # -- structure -------------------------------------------------------------------------------

    @property
    def root(self) -> Stream:
        stream = self
        while stream.parent is not None:
            stream = stream.parent
        return stream

    @property
    def channel(self) -> Channel | None:
        sub = self.root.subscription
        return None if sub is None else sub.channel

    @property
    def active_partitions(self) -> set[TP] | None:
        """The partitions this stream is limited to (an agent with ``isolated_partitions=True``
        runs one stream per partition), or ``None`` for all of its channel's."""
        sub = self.root.subscription
        if sub is None or sub.partition is None or not isinstance(sub.channel, Topic):
            return None
        return {TP(name, sub.partition) for name in sub.channel.topics}

    def get_active_stream(self) -> Stream:
        """The last stream derived from this one, through every operator: the one iterated."""
        stream = self
        while stream._next is not None:
            stream = stream._next
        return stream

    def get_root_stream(self) -> Stream:
        """The first stream of the chain, before any operator (``group_by`` included)."""
        stream = self
        while stream._prev is not None:
            stream = stream._prev
        return stream

    def _derive(
        self,
        transform: Callable[[Stream, AsyncIterator[Any]], AsyncIterator[Any]],
    ) -> Stream:
        derived = Stream(self.app, parent=self, transform=transform)
        self._next = derived
        return derived

    def _use_manual_acks(self) -> None:
        """Events of this chain are acknowledged explicitly, not by asking for the next one."""
        root = self.root
        root.explicit_acks = True
        if root.subscription is not None:
            root.subscription.progress.use_manual_acks()

    # -- iteration -------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._track(self._iterate(_VALUES))

    def items(self) -> AsyncIterator[tuple[Any, Any]]:
        """``(key, value)`` pairs."""
        return self._track(self._iterate(_ITEMS))

    def events(self) -> AsyncIterator[Event]:
        """:class:`strm.events.Event` objects."""
        return self._track(self._iterate(_EVENTS))

    def _track(self, iterator: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        self._iterators.append(iterator)
        return iterator

    async def _iterate(self, project: int, ticks: bool = False) -> AsyncGenerator[Any, None]:
        token = current_stream.set(self)
        self._start_pumps()
        upstream: AsyncGenerator[Any, None] | None = None
        source: AsyncIterator[Any]
        if self.parent is not None and self._transform is not None:
            upstream = self.parent._iterate(_EVENTS, ticks=True)
            source = self._transform(self, upstream)
        elif self.subscription is not None:
            source = self._read_subscription()
        else:
            source = self._read_iterable()
        try:
            async for event in source:
                if event is TICK:
                    if ticks:
                        yield TICK
                    continue
                self.current_event = event
                if project == _VALUES:
                    yield event.value
                elif project == _ITEMS:
                    yield event.key, event.value
                else:
                    yield event
        finally:
            # Close explicitly, innermost last: the root generator returns unprocessed
            # records to the inbox when it is closed.
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
            if upstream is not None:
                await upstream.aclose()
            with contextlib.suppress(ValueError):  # closed from another context
                current_stream.reset(token)
            await self._stop_pumps()

    async def _read_subscription(self) -> AsyncGenerator[Any, None]:
        sub = self.subscription
        assert sub is not None
        inbox, progress, make_event = sub.inbox, sub.progress, sub.make_event
        done = progress.done
        dead_letters = self.app.dead_letters
        gate = self.app.conductor.gate
        positions = sub.source_positions
        clock = time.monotonic
        turn_ends = clock() + STREAM_TURN
        while True:
            deadline = self.deadline
            if deadline is None:
                tp, items = await inbox.get()
            else:
                batch = await inbox.get_before(deadline)
                if batch is None:
                    yield TICK
                    continue
                tp, items = batch
            if self.shared and len(items) > 1:
                inbox.put_front(tp, items[1:])
                items = items[:1]
            generation = inbox.generation
            explicit = self.explicit_acks
            acks = self._acks(progress) if progress.manual else None
            part = cast(TP, tp)  # a partition whenever the items are records (make_event)
            count, index = len(items), 0
            try:
                while index < count:
                    if not index & CLOCK_EVERY_MASK and clock() >= turn_ends:
                        turn_ends = await _give_the_loop_a_turn() + STREAM_TURN
                        if inbox.generation != generation and tp in inbox.revoked:
                            index = count  # revoked meanwhile: its new owner processes it
                            break
                    item = items[index]
                    index += 1
                    if make_event is None:
                        event: Event = item
                        yield event
                        event.ack()
                        continue
                    message: Message = item
                    if gate.closed:  # a checkpoint takes its snapshot between two events
                        await gate.passage()
                        if inbox.generation != generation and tp in inbox.revoked:
                            index = count  # revoked meanwhile: its new owner processes it
                            break
                    # In flight from here on: a snapshot waits until the record is finished,
                    # so it never holds the record's source position without its offset.
                    self.busy_message = message
                    if positions is not None and positions.is_copy(message):
                        # forwarded again after a crash upstream: the tables hold it already
                        self.busy_message = None
                        if acks is not None:
                            acks.deliver(message)
                            acks.ack(part, message.offset)
                        else:
                            done[part] = message.offset
                        continue
                    try:
                        event = make_event(message)
                    except Exception as exc:  # a bad record must not stop its partition
                        if acks is not None:  # delivered first: not acked if it is not sent
                            acks.deliver(message)
                        await dead_letters.undecodable(message, exc)
                        self.busy_message = None
                        if acks is not None:
                            acks.ack(part, message.offset)
                        else:
                            done[part] = message.offset
                        continue
                    if acks is not None:
                        acks.deliver(message)
                        event._progress = acks
                    yield event
                    self.busy_message = None
                    if acks is None:
                        done[part] = message.offset
                    elif not explicit:
                        acks.ack(part, message.offset)
                    if inbox.generation != generation and tp in inbox.revoked:
                        index = count  # revoked: its new owner processes the rest
            finally:
                self.busy_message = None
                inbox.release(index)
                if index < count:
                    inbox.put_front(tp, items[index:])

    def _acks(self, progress: Progress) -> _StreamAcks:
        acks = self._stream_acks
        if acks is None or acks.progress is not progress:
            acks = self._stream_acks = _StreamAcks(progress)
        return acks

    @property
    def busy_tp(self) -> TP | None:
        """The partition of the record being processed right now, if any."""
        message = self.busy_message
        return None if message is None else message.tp

    def in_flight_messages(self) -> list[Message]:
        """Records this (root) stream delivered and that are not finished yet."""
        if self._stream_acks is not None and self._stream_acks.in_flight:
            return list(self._stream_acks.in_flight.values())
        return [] if self.busy_message is None else [self.busy_message]

    def finish(self, message: Message) -> None:
        """Count a record as finished (after it was dead-lettered)."""
        acks = self._stream_acks
        if acks is not None and acks.progress.manual:
            acks.ack(message.tp, message.offset)
        elif self.subscription is not None:
            self.subscription.progress.done[message.tp] = message.offset
        if self.busy_message is message:
            self.busy_message = None

    async def _read_iterable(self) -> AsyncGenerator[Any, None]:
        source = self._iterable
        offset = 0
        if isinstance(source, AsyncIterable):
            async for value in source:
                yield self._wrap(value, offset)
                offset += 1
        else:
            assert source is not None
            for value in source:
                yield self._wrap(value, offset)
                offset += 1

    def _wrap(self, value: Any, offset: int) -> Event:
        if isinstance(value, Event):
            return value
        message = Message("<iterable>", 0, offset, time.time(), None, None)
        return Event(self.app, None, value, message, None)

    async def aclose(self) -> None:
        """Close every iteration handed out: unprocessed events go back to the inbox."""
        iterators, self._iterators = self._iterators, []
        for iterator in reversed(iterators):
            await iterator.aclose()
        await self._stop_pumps()
        self.stopped.set()

    # -- pumps: background feeders of derived streams ---------------------------------------------

    def _start_pumps(self) -> None:
        if self._pumps and not self._pump_tasks:
            self._pump_tasks = [
                self.app.runtime.spawn(_run_pump(pump, self), name=f"strm-pump-{id(self):x}")
                for pump in self._pumps
            ]

    async def _stop_pumps(self) -> None:
        tasks, self._pump_tasks = self._pump_tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- acknowledgement -------------------------------------------------------------------------

    async def ack(self, event: Event) -> bool:
        """Acknowledge an event of a ``noack()`` or ``noack_take`` stream; true when that
        finished its record (an event of a stream that acknowledges by itself is finished when
        the next one is asked for)."""
        progress = event._progress
        event.ack()
        return progress is not None and progress.manual

    def noack(self) -> Stream:
        """A stream whose events are finished only when you call ``event.ack()``."""

        async def transform(stream: Stream, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for event in source:
                yield event

        self._use_manual_acks()
        return self._derive(transform)

    # -- operators -------------------------------------------------------------------------------

    def filter(self, fun: Callable[[Any], Any]) -> Stream:
        """Only values for which ``fun`` is true; ``fun`` may return an awaitable (an ``async
        def``, a partial of one, an ``AsyncMock``). The others are acknowledged."""

        async def transform(stream: Stream, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for event in source:
                if event is TICK:
                    yield event
                    continue
                keep = fun(event.value)
                if inspect.isawaitable(keep):
                    keep = await keep
                if keep:
                    yield event
                else:
                    event.ack()

        return self._derive(transform)

    def enumerate(self, start: int = 0) -> AsyncIterator[tuple[int, Any]]:
        """``(index, value)`` pairs."""

        async def numbered() -> AsyncGenerator[tuple[int, Any], None]:
            index = start
            async for value in self:
                yield index, value
                index += 1

        return self._track(numbered())

    def echo(self, *channels: Channel | str) -> Stream:
        """Also send every value (with its key) to these channels or topics; a name is a topic
        with this stream's key and value types."""
        targets = [self._target(c) for c in channels]

        async def transform(stream: Stream, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for event in source:
                if event is not TICK:
                    for target in targets:
                        await target.send(key=event.key, value=event.value)
                yield event

        return self._derive(transform)

    def take(self, max_: int, within: Seconds | None = None) -> AsyncIterator[list[Any]]:
        """Lists of up to ``max_`` values, or what arrived within ``within`` (seconds or a
        ``timedelta``) of the first one. The events of a list are finished when you ask for the
        next list."""
        return self._track(self._take(max_, _seconds(within), lambda e: e.value))

    def take_events(self, max_: int, within: Seconds | None = None) -> AsyncIterator[list[Event]]:
        return self._track(self._take(max_, _seconds(within), lambda e: e))

    def noack_take(self, max_: int, within: Seconds | None = None) -> AsyncIterator[list[Event]]:
        """Lists of events that you acknowledge yourself."""
        return self._track(self._take(max_, _seconds(within), lambda e: e, ack=False))

    def take_with_timestamp(
        self, max_: int, within: Seconds | None, timestamp_field_name: str
    ) -> AsyncIterator[list[Any]]:
        """Like :meth:`take`; each (dict) value gets the record's timestamp under a key."""

        def stamped(event: Event) -> Any:
            value = event.value
            if isinstance(value, dict):
                value[timestamp_field_name] = event.message.timestamp
            return value

        return self._track(self._take(max_, _seconds(within), stamped))

    async def _take(
        self,
        max_: int,
        within: float | None,
        project: Callable[[Event], Any],
        ack: bool = True,
    ) -> AsyncGenerator[list[Any], None]:
        if max_ < 1:
            raise ValueError(f"take(max_={max_!r}): must be at least 1")
        self._use_manual_acks()
        root = self.root
        loop = asyncio.get_running_loop()
        source = self._iterate(_EVENTS, ticks=True)
        buffer: list[Event] = []
        first_at = 0.0
        try:
            while True:
                if buffer and within is not None:
                    root.deadline = first_at + within
                else:
                    root.deadline = loop.time() + within if within is not None else None
                try:
                    event = await source.__anext__()
                except StopAsyncIteration:
                    break
                if event is not TICK:
                    if not buffer:
                        first_at = loop.time()
                    buffer.append(event)
                if buffer and (len(buffer) >= max_ or event is TICK):
                    root.deadline = None
                    batch, buffer = buffer, []
                    yield [project(e) for e in batch]
                    if ack:
                        for e in batch:
                            e.ack()
            if buffer:
                root.deadline = None
                yield [project(e) for e in buffer]
                if ack:
                    for e in buffer:
                        e.ack()
        finally:
            root.deadline = None
            await source.aclose()

    def through(self, channel: Channel | str) -> Stream:
        """Forward every event to another channel or topic and continue from there; a name is
        a topic with this stream's key and value types."""
        return self._relay(self._target(channel), key_of=None)

    def _target(self, channel: Channel | str) -> Channel:
        """A channel, or for a name: the topic so named, derived from this stream's topic (its
        key and value types) as Faust does, or the app's topic of that name."""
        source = self.channel
        if isinstance(channel, str) and isinstance(source, Topic):
            return source.derive(topics=(channel,))
        return self.app.resolve_channel(channel)

    def group_by(
        self,
        key: Any,
        *,
        name: str | None = None,
        topic: Topic | None = None,
        partitions: int | None = None,
    ) -> Stream:
        """Re-key every event (by a model field or a function, sync or async, of the value) and
        repartition it through an internal topic, so that events with the same new key meet in
        one partition. An event whose key cannot be computed is logged and skipped.

        The topic is ``<app id>-<source topic>-<name>-repartition`` (without the app id when
        the source topic ``has_prefix``) unless ``topic`` is given; ``name`` defaults to the
        field's name and is required for a function. A stream over an in-memory channel (as in
        ``agent.test_context()``) has nothing to repartition: its events are re-keyed in place.
        """
        extract, label = _key_extractor(key, name)
        source = self.channel
        if topic is None:
            if not isinstance(source, Topic):
                return self._rekey(extract)
            prefix = "" if source.has_prefix else f"{self.app.conf.id}-"
            topic = self.app.topic(
                f"{prefix}{source.get_topic_name()}-{label}-repartition",
                schema=source.schema,
                partitions=partitions or source.partitions,
                internal=True,
            )
        if isinstance(source, Topic) and source.pattern is None:
            topic.positions_from.add(source.get_topic_name())
        return self._relay(topic, key_of=extract)

    def _rekey(self, key_of: Callable[[Any], Any]) -> Stream:
        """``group_by`` within this process: the same events under their new keys."""

        async def transform(stream: Stream, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for event in source:
                if event is TICK:
                    yield event
                    continue
                try:
                    # No coroutine per event for a plain key function: await only what is.
                    new_key = key_of(event.value)
                    if inspect.isawaitable(new_key):
                        new_key = await new_key
                except Exception:
                    logger.exception("group_by: no key for %r; the event is skipped", event)
                    event.ack()
                    continue
                yield Event(self.app, new_key, event.value, event.message, event._progress)

        return self._derive(transform)

    def _relay(self, target: Channel, key_of: Callable[[Any], Any] | None) -> Stream:
        downstream = self.app.stream(target)
        downstream._prev = self
        self._next = downstream

        async def pump() -> None:
            async for event in self.events():
                if key_of is None:
                    new_key = event.key
                else:
                    try:
                        new_key = key_of(event.value)
                        if inspect.isawaitable(new_key):
                            new_key = await new_key
                    except Exception:
                        logger.exception("group_by: no key for %r; the event is skipped", event)
                        continue
                if isinstance(target, Topic) and event.message.value is not None:
                    raw_key = target.schema.dumps_key(self.app.serializers, new_key)
                    message = event.message
                    if target.positions_from:
                        headers = with_position(message.headers, message)
                        await event.forward(target, key=raw_key, headers=headers)
                    else:
                        await event.forward(target, key=raw_key)
                else:
                    await target.send(key=new_key, value=event.value, headers=event.headers)

        downstream._pumps = (*downstream._pumps, pump)
        return downstream

    def tee(self, n: int = 2) -> tuple[Stream, ...]:
        """``n`` streams that each see every event; an event is finished when all have it."""
        if n < 2:
            raise ValueError(f"tee(n={n!r}): need at least 2 branches")
        self._use_manual_acks()
        branches = [self.app.channel() for _ in range(n)]
        streams = tuple(self.app.stream(branch) for branch in branches)

        async def pump() -> None:
            async for event in self.events():
                fanout = _Fanout(event, n)
                for branch in branches:
                    copy = Event(self.app, event.key, event.value, event.message, fanout)
                    await branch.put(copy)

        first = streams[0]
        first._pumps = (*first._pumps, pump)
        return streams

    def combine(self, *streams: Stream) -> Stream:
        """One stream of the events of this and other streams, in arrival order."""
        merged = self.app.channel()
        sources = (self, *streams)
        for source in sources:
            source._use_manual_acks()

        def make_pump(source: Stream) -> Callable[[], Awaitable[None]]:
            async def pump() -> None:
                async for event in source.events():
                    await merged.put(event)

            return pump

        combined = self.app.stream(merged)
        combined._pumps = tuple(make_pump(s) for s in sources)
        return combined

    def __and__(self, other: Stream) -> Stream:
        return self.combine(other)

    async def sleep(self, seconds: float) -> None:
        """Sleep, returning early if the stream is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopped.wait(), seconds)

    def __repr__(self) -> str:
        channel = self.channel
        return f"<Stream {channel.label if channel is not None else 'iterable'}>"


class _StreamAcks:
    """A root stream's own view of its explicit acknowledgements: which records it delivered
    and has not finished, so an instance that crashes can dead-letter exactly those."""

    __slots__ = ("in_flight", "manual", "progress")

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.in_flight: dict[tuple[str, int, int], Message] = {}
        self.manual = True

    def deliver(self, message: Message) -> None:
        self.in_flight[(message.topic, message.partition, message.offset)] = message
        self.progress.deliver(message.tp, message.offset)

    def ack(self, tp: TP, offset: int) -> None:
        if self.in_flight.pop((tp.topic, tp.partition, offset), None) is not None:
            self.progress.ack(tp, offset)


class _Fanout:
    """Acknowledges the source event once every ``tee`` branch has acknowledged its copy."""

    __slots__ = ("event", "left", "manual")

    def __init__(self, event: Event, count: int) -> None:
        self.event = event
        self.left = count
        self.manual = True

    def ack(self, tp: TP, offset: int) -> None:
        self.left -= 1
        if self.left == 0:
            self.event.ack()


#: A duration as Faust takes it: seconds, or a ``timedelta``.
Seconds = float | timedelta


def _seconds(duration: Seconds | None) -> float | None:
    """Seconds of a duration; Faust reads no duration (``None`` or 0) as "no time limit"."""
    if isinstance(duration, timedelta):
        duration = duration.total_seconds()
    return duration or None


def _key_extractor(key: Any, name: str | None) -> tuple[Callable[[Any], Any], str]:
    getter = getattr(key, "getattr", None)
    if callable(getter) and hasattr(key, "field"):
        return getter, name or str(key.field)
    if callable(key):
        if name is None:
            raise StrmError("group_by(fun) needs name= to name its repartition topic")
        return key, name
    raise StrmError(f"group_by(): expected a model field or a function, got {key!r}")


async def _give_the_loop_a_turn() -> float:
    """Let the other tasks run: ``TURN_ITERATIONS`` loop iterations, then more while they
    find work, for at most ``STREAM_TURN`` in all. Returns the clock."""
    clock = time.monotonic
    started = clock()
    for _ in range(TURN_ITERATIONS):
        await asyncio.sleep(0)
    now = clock()
    while now - started < STREAM_TURN:
        await asyncio.sleep(0)
        before, now = now, clock()
        if now - before < QUIET_ITERATION:
            break
    return now


async def _run_pump(pump: Callable[[], Awaitable[None]], downstream: Stream) -> None:
    """Run a relay feeding ``downstream``; its failure reaches whoever iterates it."""
    try:
        await pump()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if downstream.subscription is not None:
            downstream.subscription.inbox.close(exc)
