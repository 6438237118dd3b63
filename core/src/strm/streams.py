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
from typing import TYPE_CHECKING, Any

from strm.channels import Channel, Subscription, Topic
from strm.events import Event, current_stream
from strm.kernel.errors import StrmError
from strm.kernel.source_positions import with_position
from strm.kernel.spi import TP, Message
from strm.runtime.progress import Progress
from strm.runtime.stream_batches import Seconds, seconds, take_batches
from strm.runtime.stream_reading import (
    EVENTS,
    ITEMS,
    PICKS,
    TICK,
    VALUES,
    Fanout,
    StreamAcks,
    read_subscription,
)

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

logger = logging.getLogger("strm.streams")


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
        #: The partition of the inbox batch :func:`read_subscription` is iterating (the same
        #: ``TP`` object for all its events), ``None`` between batches and for a channel's
        #: events: tables key their per-batch shortcut on it.
        self.batch_tp: TP | None = None
        self.busy_message: Message | None = None
        self.owner: str | None = None  # the agent reading it: sensors hear of its batches
        self.explicit_acks = False
        self._stream_acks: StreamAcks | None = None
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
        return self._iteration(VALUES)

    def items(self) -> AsyncIterator[tuple[Any, Any]]:
        """``(key, value)`` pairs."""
        return self._iteration(ITEMS)

    def events(self) -> AsyncIterator[Event]:
        """:class:`strm.events.Event` objects."""
        return self._iteration(EVENTS)

    def _iteration(self, project: int) -> AsyncGenerator[Any, None]:
        """A root stream of a topic or channel is read by :func:`read_subscription` alone,
        without ``_iterate`` around it."""
        if self.parent is None and self.subscription is not None:
            return self._track(read_subscription(self, PICKS[project], alone=True))
        return self._track(self._iterate(project))

    def _track(self, iterator: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        self._iterators.append(iterator)
        return iterator

    async def _iterate(self, project: int, ticks: bool = False) -> AsyncGenerator[Any, None]:
        token = current_stream.set(self)
        self._start_pumps()
        upstream: AsyncGenerator[Any, None] | None = None
        source: AsyncIterator[Any]
        if self.parent is not None and self._transform is not None:
            upstream = self.parent._iterate(EVENTS, ticks=True)
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
                if project == VALUES:
                    yield event.value
                elif project == ITEMS:
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

    def _read_subscription(self) -> AsyncGenerator[Any, None]:
        return read_subscription(self)

    def _acks(self, progress: Progress) -> StreamAcks:
        acks = self._stream_acks
        if acks is None or acks.progress is not progress:
            acks = self._stream_acks = StreamAcks(progress)
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
        return self._track(take_batches(self, max_, seconds(within), _value))

    def batches(self, max: int, within: Seconds | None = None) -> AsyncIterator[list[Any]]:
        """``async for batch in stream.batches(max=1000, within=0.5)``: lists of up to ``max``
        values, or what arrived within ``within`` seconds of the first one, for code that works
        on many values at once (a bulk insert, a vectorised computation). The engine of
        :meth:`take`: a list's records are acknowledged when the next list is asked for, after
        the loop body processed it, so a crash in between reads them again."""
        if max < 1:
            raise ValueError(f"stream.batches(max={max!r}): must be at least 1")
        return self._track(take_batches(self, max, seconds(within), _value))

    def take_events(self, max_: int, within: Seconds | None = None) -> AsyncIterator[list[Event]]:
        return self._track(take_batches(self, max_, seconds(within), lambda e: e))

    def noack_take(self, max_: int, within: Seconds | None = None) -> AsyncIterator[list[Event]]:
        """Lists of events that you acknowledge yourself."""
        return self._track(take_batches(self, max_, seconds(within), lambda e: e, ack=False))

    def take_with_timestamp(
        self, max_: int, within: Seconds | None, timestamp_field_name: str
    ) -> AsyncIterator[list[Any]]:
        """Like :meth:`take`; each (dict) value gets the record's timestamp under a key."""

        def stamped(event: Event) -> Any:
            value = event.value
            if isinstance(value, dict):
                value[timestamp_field_name] = event.message.timestamp
            return value

        return self._track(take_batches(self, max_, seconds(within), stamped))

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
            serializers = self.app.serializers
            topic = target if isinstance(target, Topic) else None
            async for event in self.events():
                if key_of is None:
                    new_key = event.key
                else:
                    try:
                        new_key = key_of(event.value)
                        if type(new_key) not in _PLAIN_KEYS and inspect.isawaitable(new_key):
                            new_key = await new_key
                    except Exception:
                        logger.exception("group_by: no key for %r; the event is skipped", event)
                        continue
                if topic is not None and event.message.value is not None:
                    raw_key = topic.schema.dumps_key(serializers, new_key)
                    message = event.message
                    if topic.positions_from:
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
                fanout = Fanout(event, n)
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


#: Key types that are never awaitable: ``group_by`` skips the awaitable check for them.
_PLAIN_KEYS = frozenset({str, bytes, int, float, type(None)})


def _value(event: Event) -> Any:
    return event.value


def _key_extractor(key: Any, name: str | None) -> tuple[Callable[[Any], Any], str]:
    getter = getattr(key, "getattr", None)
    if callable(getter) and hasattr(key, "field"):
        return getter, name or str(key.field)
    if callable(key):
        if name is None:
            raise StrmError("group_by(fun) needs name= to name its repartition topic")
        return key, name
    raise StrmError(f"group_by(): expected a model field or a function, got {key!r}")


async def _run_pump(pump: Callable[[], Awaitable[None]], downstream: Stream) -> None:
    """Run a relay feeding ``downstream``; its failure reaches whoever iterates it."""
    try:
        await pump()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if downstream.subscription is not None:
            downstream.subscription.inbox.close(exc)
