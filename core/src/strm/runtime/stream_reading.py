"""How a root stream reads its subscription: the per-event path of every agent.

Split from :mod:`strm.streams` so the hot loop, its acknowledgement records and its turns of the
event loop can be read (and profiled) on their own; ``Stream`` calls :func:`read_subscription`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from strm.events import Event, current_stream
from strm.kernel.spi import TP, Message

if TYPE_CHECKING:
    from strm.runtime.progress import Progress
    from strm.streams import Stream

#: Passed up a chain of streams when a ``take(within=...)`` deadline passes with no event.
TICK: Any = object()

#: What ``Stream._iterate`` yields: events, values, or (key, value) pairs.
EVENTS, VALUES, ITEMS = 0, 1, 2
#: What :func:`read_subscription` yields of each event, by the same choice (``None``: the event).
PICKS: dict[int, Callable[[Event], Any] | None] = {
    EVENTS: None,
    VALUES: attrgetter("value"),
    ITEMS: attrgetter("key", "value"),
}

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


async def read_subscription(
    self: Stream, pick: Callable[[Event], Any] | None = None, alone: bool = False
) -> AsyncGenerator[Any, None]:
    """A root stream's events, batch by batch from its subscription's inbox: each batch is
    iterated without awaiting, except at the checkpoint gate and for a turn of the loop.

    ``pick`` makes what is yielded of each event (:data:`PICKS`). ``alone``: an agent iterates
    this generator itself, not through ``Stream._iterate``: it then passes no ``TICK`` on, and
    does what ``_iterate`` does around it (the stream's context variable, its pumps), which
    saves a generator step per event (about 1,000 machine instructions)."""
    sub = self.subscription
    assert sub is not None
    inbox, progress, make_event = sub.inbox, sub.progress, sub.make_event
    done, sensors, positions = progress.done, self.app.sensors, sub.source_positions
    dead_letters, gate, clock = self.app.dead_letters, self.app.conductor.gate, time.monotonic
    conductor = self.app.conductor
    tracer = sensors.event_tracer  # None unless a sensor traces each event
    turn_ends = clock() + STREAM_TURN
    first_batch = True
    if alone:
        token = current_stream.set(self)
        self._start_pumps()
    try:
        while True:
            deadline = self.deadline
            if deadline is None:
                tp, items = await inbox.get()
            else:
                batch = await inbox.get_before(deadline)
                if batch is None:
                    if not alone:
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
            self.batch_tp = None if make_event is None else part
            count, index, skipped, started = len(items), 0, 0, clock()
            # The start-up ran while this stream waited for its first batch: its turn starts
            # afresh, so that its first event waits for no one. Only then: restarting the turn at
            # every batch let a word count over a backlog go 160,000 events without a checkpoint
            # (tests/integration/test_kafka_fair_progress.py).
            if first_batch:
                turn_ends = started + STREAM_TURN
                first_batch = False
            try:
                while index < count:
                    if not index & CLOCK_EVERY_MASK and clock() >= turn_ends:
                        turn_ends = await give_the_loop_a_turn() + STREAM_TURN
                        if inbox.generation != generation and tp in inbox.revoked:
                            index, skipped = count, count - index  # its new owner has them
                            break
                    item = items[index]
                    index += 1
                    if make_event is None:
                        event: Event = item
                        self.current_event = event
                        yield event if pick is None else pick(event)
                        event.ack()
                        continue
                    message: Message = item
                    if gate.closed:  # a checkpoint takes its snapshot between two events
                        await gate.passage()
                        if inbox.generation != generation and tp in inbox.revoked:
                            index, skipped = count, count - index  # its new owner has them
                            break
                    # In flight from here on: a snapshot waits until the record is finished,
                    # so it never holds the record's source position without its offset.
                    self.busy_message = message
                    if positions is not None and positions.is_copy(message):
                        # forwarded again after a crash upstream: the tables hold it already
                        self.busy_message = None
                        if acks is not None:
                            acks.deliver(part, message)
                            acks.ack(part, message.offset)
                        else:
                            done[part] = message.offset
                        continue
                    try:
                        event = make_event(message)
                    except Exception as exc:  # a bad record must not stop its partition
                        if acks is not None:  # delivered first: not acked if it is not sent
                            acks.deliver(part, message)
                        await dead_letters.undecodable(message, exc)
                        self.busy_message = None
                        if acks is not None:
                            acks.ack(part, message.offset)
                        else:
                            done[part] = message.offset
                        continue
                    if acks is not None:
                        acks.deliver(part, message)
                        event._progress = acks
                    self.current_event = event
                    if tracer is None:
                        yield event if pick is None else pick(event)
                    else:
                        traced = tracer.event_in(message)
                        try:
                            yield event if pick is None else pick(event)
                        finally:
                            tracer.event_out(traced)
                    self.busy_message = None
                    if acks is None:
                        done[part] = message.offset
                    elif not explicit:
                        acks.ack(part, message.offset)
                    if inbox.generation != generation and tp in inbox.revoked:
                        index, skipped = count, count - index  # its new owner has the rest
            finally:
                self.busy_message = None
                self.batch_tp = None
                inbox.release(index)
                if index < count:
                    inbox.put_front(tp, items[index:])
                if index > skipped:  # per batch, never per event
                    if make_event is not None:  # records of a topic, not a channel's events
                        conductor.processed(index - skipped)
                    if self.owner is not None:
                        sensors.on_agent_batch(self.owner, part, index - skipped, clock() - started)
    finally:
        if alone:
            with contextlib.suppress(ValueError):  # closed from another context
                current_stream.reset(token)
            await self._stop_pumps()


class StreamAcks:
    """A root stream's own view of its explicit acknowledgements: which records it delivered
    and has not finished, so an instance that crashes can dead-letter exactly those."""

    __slots__ = ("in_flight", "manual", "progress")

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.in_flight: dict[tuple[str, int, int], Message] = {}
        self.manual = True

    def deliver(self, tp: TP, message: Message) -> None:
        self.in_flight[(message.topic, message.partition, message.offset)] = message
        self.progress.deliver(tp, message.offset)

    def ack(self, tp: TP, offset: int) -> None:
        if self.in_flight.pop((tp.topic, tp.partition, offset), None) is not None:
            self.progress.ack(tp, offset)

    def ack_events(self, events: list[Event]) -> None:
        """Acknowledge a list of this stream's events (a ``take`` or ``batches`` list) in one
        call: the partition of each is looked up once per list, not built once per event."""
        in_flight = self.in_flight
        progress_ack = self.progress.ack
        tps: dict[tuple[str, int], TP] = {}
        for event in events:
            message = event.message
            topic, partition, offset = message.topic, message.partition, message.offset
            if in_flight.pop((topic, partition, offset), None) is None:
                continue  # acknowledged already (by hand, or dead-lettered)
            tp = tps.get((topic, partition))
            if tp is None:
                tp = tps[(topic, partition)] = TP(topic, partition)
            progress_ack(tp, offset)


class Fanout:
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


async def give_the_loop_a_turn() -> float:
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
