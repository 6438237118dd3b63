"""Windows: which time ranges an event falls in, and windowed views of a table.

Ranges are half-open, ``[start, end)``, in seconds: an event at exactly ``end`` belongs to the
next window, and sub-second sizes work. Time is *stream time* — the latest event timestamp a
table partition has seen — so windows close and expire as the data advances, not by the wall
clock, and replaying old data gives the same results.

A window closes when stream time reaches ``end + grace``: ``on_window_close(key, value)``, with
Faust's key ``(key, (start, end))``, is called once for it. An event that only falls in closed
windows is *late*: it is counted, and dropped, or sent to ``late_events`` when the windowed
table names a topic there. Window data is removed ``expires`` seconds after the window's end (at
close when ``expires`` is not given), by a cleanup every ``table_cleanup_interval`` seconds.
"""

from __future__ import annotations

import abc
import bisect
import math
import operator
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from strm.events import Event, current_event
from strm.kernel.errors import StrmError
from strm.tables.ansitable import render_mapping
from strm.tables.shard import MISSING
from strm.tables.window_time import (
    RelativeArg,
    Seconds,
    event_time,
    field_time,
    optional_seconds,
    relative_handler,
    want_seconds,
)
from strm.tables.window_views import WindowedItemsView, WindowedKeysView, WindowedValuesView

if TYPE_CHECKING:
    from strm.channels import Topic
    from strm.tables.table import Collection, RecoverCallback

Range = tuple[float, float]


class WindowKey(NamedTuple):
    """How a windowed table stores a value: Faust's ``(key, (start, end))``, which is also
    what ``on_window_close`` receives, with ``start`` and ``end`` readable by name."""

    key: Any
    window: Range

    @property
    def start(self) -> float:
        return self.window[0]

    @property
    def end(self) -> float:
        return self.window[1]


class Window(abc.ABC):
    """Base class: subclasses say which ranges contain a timestamp."""

    #: Sliding and session windows aggregate on read or merge on write (see their classes).
    kind = "fixed"

    def __init__(self, *, expires: Seconds | None = None, grace: Seconds = 0.0) -> None:
        grace_seconds = want_seconds(grace, "a window's grace")
        expires_seconds = optional_seconds(expires, "a window's expires")
        if grace_seconds < 0:
            raise StrmError(f"a window's grace period cannot be negative, got {grace}")
        if expires_seconds is not None and expires_seconds < grace_seconds:
            raise StrmError(
                f"expires={expires} is shorter than grace={grace}: a window would be removed "
                "before it closes"
            )
        self.expires = expires_seconds
        self.grace = grace_seconds

    @abc.abstractmethod
    def ranges(self, timestamp: float) -> list[Range]:
        """The ranges an event at ``timestamp`` is stored in, oldest first."""

    def current(self, timestamp: float) -> Range:
        """The range reported as "current" for a timestamp: the latest one containing it."""
        return self.ranges(timestamp)[-1]

    def earliest(self, timestamp: float) -> Range:
        """The oldest range containing a timestamp, which ``now()`` reads, as in Faust."""
        return self.ranges(timestamp)[0]

    def delta(self, timestamp: float, d: Seconds) -> Range:
        """The range that was current ``d`` before ``timestamp``."""
        return self.current(timestamp - want_seconds(d, "a window delta"))

    def closes_at(self, window: Range) -> float:
        return window[1] + self.grace

    def expires_at(self, window: Range) -> float:
        return window[1] + (self.expires if self.expires is not None else self.grace)


class TumblingWindow(Window):
    """Fixed-size windows that do not overlap: ``[0, size), [size, 2 size), ...``."""

    def __init__(
        self, size: Seconds, expires: Seconds | None = None, *, grace: Seconds = 0.0
    ) -> None:
        seconds = want_seconds(size, "a tumbling window's size")
        if seconds <= 0:
            raise StrmError(f"a tumbling window needs a positive size, got {size}")
        super().__init__(expires=expires, grace=grace)
        self.size = seconds

    def ranges(self, timestamp: float) -> list[Range]:
        start = math.floor(timestamp / self.size) * self.size
        return [(start, start + self.size)]


class HoppingWindow(Window):
    """Windows of ``size`` seconds starting every ``step`` seconds; an event is in each one
    that contains it (``size / step`` of them when ``step`` divides ``size``)."""

    def __init__(
        self,
        size: Seconds,
        step: Seconds,
        expires: Seconds | None = None,
        *,
        grace: Seconds = 0.0,
    ) -> None:
        size_seconds = want_seconds(size, "a hopping window's size")
        step_seconds = want_seconds(step, "a hopping window's step")
        if size_seconds <= 0 or step_seconds <= 0:
            raise StrmError(f"a hopping window needs a positive size and step, got {size}, {step}")
        if step_seconds > size_seconds:
            raise StrmError(f"a hopping window's step ({step}) cannot exceed its size ({size})")
        super().__init__(expires=expires, grace=grace)
        self.size = size_seconds
        self.step = step_seconds

    def ranges(self, timestamp: float) -> list[Range]:
        last = math.floor(timestamp / self.step)
        first = math.floor((timestamp - self.size) / self.step) + 1
        return [(k * self.step, k * self.step + self.size) for k in range(first, last + 1)]


class SlidingWindow(Window):
    """For a time ``t``, the events with timestamps in ``[t - before, t + after]``.

    Each event is stored once, in a bucket for its own timestamp; reading a window folds the
    buckets in range with the operation used to write them (``+=`` sums them), so every
    position of the window is exact without storing one copy per window.
    """

    kind = "sliding"

    def __init__(
        self,
        before: Seconds,
        after: Seconds = 0.0,
        expires: Seconds | None = None,
        *,
        grace: Seconds = 0.0,
    ) -> None:
        before_seconds = want_seconds(before, "a sliding window's before")
        after_seconds = want_seconds(after, "a sliding window's after")
        if before_seconds < 0 or after_seconds < 0:
            raise StrmError(f"a sliding window needs before, after >= 0, got {before}, {after}")
        super().__init__(expires=expires, grace=grace)
        self.before = before_seconds
        self.after = after_seconds

    def ranges(self, timestamp: float) -> list[Range]:
        return [(timestamp, timestamp)]  # the bucket the event is stored in

    def current(self, timestamp: float) -> Range:
        return (timestamp - self.before, timestamp + self.after)

    def earliest(self, timestamp: float) -> Range:
        return self.current(timestamp)

    def closes_at(self, window: Range) -> float:
        # A bucket is needed while some window reading it can still change.
        return window[1] + self.before + self.grace

    def expires_at(self, window: Range) -> float:
        return window[1] + self.before + (self.expires if self.expires is not None else self.grace)


class SessionWindow(Window):
    """Sessions per key: events less than ``gap`` seconds apart are in one session; a session
    is ``[first event, last event + gap)``, and an event that bridges two sessions merges them
    (their values combined with the writing operation)."""

    kind = "session"

    def __init__(
        self, gap: Seconds, expires: Seconds | None = None, *, grace: Seconds = 0.0
    ) -> None:
        seconds = want_seconds(gap, "a session window's gap")
        if seconds <= 0:
            raise StrmError(f"a session window needs a positive gap, got {gap}")
        super().__init__(expires=expires, grace=grace)
        self.gap = seconds

    def ranges(self, timestamp: float) -> list[Range]:
        return [(timestamp, timestamp + self.gap)]


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "__iadd__": operator.add,
    "__isub__": operator.sub,
    "__imul__": operator.mul,
    "__itruediv__": operator.truediv,
    "__ifloordiv__": operator.floordiv,
    "__imod__": operator.mod,
    "__ipow__": operator.pow,
    "__ilshift__": operator.lshift,
    "__irshift__": operator.rshift,
    "__iand__": operator.and_,
    "__ixor__": operator.xor,
    "__ior__": operator.or_,
}
#: Operations whose results can be folded over sliding buckets or merged sessions.
_FOLDABLE = {operator.add, operator.mul, operator.and_, operator.xor, operator.or_}


class WindowWrapper:
    """A windowed view of a table: ``counts = app.Table('c', default=int).tumbling(60)``.

    Reading a key gives its :class:`WindowSet`; ``keys()``, ``items()`` and ``values()`` list
    the keys that have windows, with the value of the window the wrapper's time points at.
    """

    def __init__(
        self,
        table: Collection,
        window: Window,
        *,
        relative_to: RelativeArg = None,
        late_events: Topic | str | None = None,
    ) -> None:
        self.table = table
        self.window = window
        self.late_events = late_events
        self._relative_to = relative_handler(relative_to)
        table.use_window(self)
        assert table.window_state is not None
        self.state: WindowState = table.window_state

    @property
    def name(self) -> str:
        return self.table.name

    def on_recover(self, fun: RecoverCallback) -> RecoverCallback:
        """Decorate an ``async def`` to run after each recovery of the table."""
        return self.table.on_recover(fun)

    # -- time ------------------------------------------------------------------------------------

    def _derive(self, relative_to: Callable[[Event | None], float]) -> WindowWrapper:
        clone = object.__new__(WindowWrapper)
        clone.__dict__.update(self.__dict__)
        clone._relative_to = relative_to
        return clone

    def relative_to_now(self) -> WindowWrapper:
        """Windows by the wall clock at the time of the write or read."""
        return self._derive(lambda event: time.time())

    def relative_to_stream(self) -> WindowWrapper:
        """Windows by the timestamp of the event being processed (the default)."""
        return self._derive(event_time)

    def relative_to_field(self, field: Any) -> WindowWrapper:
        """Windows by a field of the event's value (a number of seconds or a datetime)."""
        return self._derive(field_time(field))

    def relative_to(self, ts: RelativeArg) -> WindowWrapper:
        """Windows by a fixed time (a datetime or seconds), a record field, or a function of
        the current event returning seconds or a datetime."""
        return self._derive(relative_handler(ts))

    def time_of(self, event: Event | None = None) -> float:
        return self._relative_to(event if event is not None else current_event())

    #: Faust's name for :meth:`time_of`.
    get_timestamp = time_of

    # -- access ----------------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> WindowSet:
        return WindowSet(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, WindowSet):
            return  # ``table[k] += 1`` assigns the WindowSet back: the update is done
        if self.window.kind != "fixed":
            raise StrmError(
                f"a {type(self.window).__name__} aggregates with +=, *=, |=, &= or ^=; "
                "it cannot be assigned a value"
            )
        self.state.write(self, key, lambda old: value)

    def __delitem__(self, key: Any) -> None:
        self.state.delete_key(self, key)

    def __iter__(self) -> Iterator[Any]:
        for _, key in self.state.local_keys():
            yield key

    def __len__(self) -> int:
        return sum(1 for _ in self.state.local_keys())

    def __bool__(self) -> bool:
        """A wrapper stands for its table, so it is true even while no key has a window (else
        ``if wrapper`` would count the keys, and be false)."""
        return True

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has a value in the window the wrapper's time points at (a
        :class:`WindowKey`: whether that very window exists)."""
        if isinstance(key, WindowKey):
            return key in set(self.state.window_keys())
        return self.state.value_at(self, key, self.time_of()) is not MISSING

    def keys(self) -> WindowedKeysView:
        """The keys that have windows; ``.now()``, ``.current()``, ``.delta(d)`` choose the
        window read, as for a :class:`WindowSet`."""
        return WindowedKeysView(self)

    def items(self, event: Event | None = None) -> WindowedItemsView:
        """``(key, value)`` of each key, in the window of the wrapper's time."""
        return WindowedItemsView(self, event if event is not None else current_event())

    def values(self, event: Event | None = None) -> WindowedValuesView:
        return WindowedValuesView(self, event if event is not None else current_event())

    def as_dict(self) -> dict[WindowKey, Any]:
        """Every window of every local key, by :class:`WindowKey`."""
        state = self.state
        return {window_key: state.read(window_key) for window_key in state.window_keys()}

    def as_ansitable(self, title: str = "{table.name}", **kwargs: Any) -> str:
        """The keys and their values in the window of the wrapper's time, as a text table."""
        return render_mapping(self.items(), title=title.format(table=self.table), **kwargs)


class WindowSet:
    """The windows of one key: ``counts['k'].current()``, ``counts['k'] += 1``.

    A read of a window without a value gives the table's ``default()``, or raises
    ``KeyError`` when the table has no default.
    """

    def __init__(self, wrapper: WindowWrapper, key: Any, event: Event | None = None) -> None:
        self.wrapper = wrapper
        self.key = key
        self.event = event

    def apply(self, op: Callable[[Any, Any], Any], value: Any) -> WindowSet:
        """Update every window the current time falls in with ``op(old, value)``."""
        self.wrapper.state.write(self.wrapper, self.key, lambda old: op(old, value), op)
        return self

    def value(self, event: Event | None = None) -> Any:
        """The window of the wrapper's time (the event's timestamp, by default)."""
        return self._at(self.wrapper.time_of(event or self.event))

    def current(self, event: Event | None = None) -> Any:
        """The window of the timestamp of the event being processed (or of ``event``)."""
        return self._at(event_time(event or self.event or current_event()))

    def now(self) -> Any:
        """The earliest window containing the partition's stream time (the latest time it
        has seen) while an event is processed; the wall clock's time otherwise."""
        state = self.wrapper.state
        return self._at(state.now_time(self.key), earliest=True)

    def delta(self, d: Seconds, event: Event | None = None) -> Any:
        """The window that was current ``d`` before the event's timestamp."""
        timestamp = event_time(event or self.event or current_event())
        return self._at(timestamp - want_seconds(d, "a window delta"))

    def __getitem__(self, item: Any) -> Any:
        """``ws[event]``: this key's windows read for ``event``; ``ws[(start, end)]``: the
        value of that window."""
        if isinstance(item, Event):
            return WindowSet(self.wrapper, self.key, item)
        start, end = item
        value = self.wrapper.state.lookup(WindowKey(self.key, (start, end)))
        return self._or_default(value)

    def _at(self, timestamp: float, *, earliest: bool = False) -> Any:
        wrapper = self.wrapper
        return self._or_default(wrapper.state.value_at(wrapper, self.key, timestamp, earliest))

    def _or_default(self, value: Any) -> Any:
        if value is not MISSING:
            return value
        default = self.wrapper.table.default
        if default is None:
            raise KeyError(self.key)
        return default()

    def __repr__(self) -> str:
        return f"<WindowSet {self.key!r} of {self.wrapper.table.name!r}>"


def _make_inplace(name: str, op: Callable[[Any, Any], Any]) -> Callable[[WindowSet, Any], Any]:
    def method(self: WindowSet, value: Any) -> WindowSet:
        return self.apply(op, value)

    method.__name__ = name
    return method


for _name, _op in _OPERATORS.items():
    setattr(WindowSet, _name, _make_inplace(_name, _op))


class MetaKey(NamedTuple):
    """A windowed table's own bookkeeping, stored beside the windows (and so in the
    changelog): its stream time, how far windows are closed, the aggregating operation."""

    name: str


STREAM_TIME = MetaKey("stream-time")
CLOSED_UPTO = MetaKey("closed-upto")
OPERATION = MetaKey("operation")
_OPERATION_NAMES = {op: name for name, op in _OPERATORS.items()}


class WindowState:
    """The windowed part of a table, per partition: which windows each key has, stream time,
    how far windows are closed, and the operation sliding and session windows combine with.
    Values and bookkeeping live in the table's shards, so they survive restarts and move with
    their partitions."""

    def __init__(self, table: Collection) -> None:
        self.table = table
        self.wrapper: WindowWrapper | None = None
        #: partition -> key -> sorted window ranges (rebuilt from the store when needed)
        self.index: dict[int, dict[Any, list[Range]]] = {}
        self.late_events = 0

    @property
    def window(self) -> Window:
        assert self.wrapper is not None
        return self.wrapper.window

    def _partition_index(self, partition: int) -> dict[Any, list[Range]]:
        index = self.index.get(partition)
        if index is None:
            index = self.index[partition] = {}
            shard = self.table.shard(partition)
            for stored in shard.keys(self.table.dumps_key):
                if isinstance(stored, WindowKey):
                    bisect.insort(index.setdefault(stored.key, []), (stored.start, stored.end))
        return index

    def _meta(self, partition: int, key: MetaKey) -> Any:
        value = self.table.shard(partition).get(key, self.table.dumps_key)
        return None if value is MISSING else value

    def _set_meta(self, partition: int, key: MetaKey, value: Any) -> None:
        self.table.shard(partition).set(key, value)

    def stream_time(self, partition: int) -> float | None:
        value = self._meta(partition, STREAM_TIME)
        return None if value is None else float(value)

    def forget_partitions(self, partitions: set[int]) -> None:
        for partition in partitions:
            self.index.pop(partition, None)

    # -- writes ----------------------------------------------------------------------------------

    def write(
        self,
        wrapper: WindowWrapper,
        key: Any,
        update: Callable[[Any], Any],
        op: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        table = self.table
        window = wrapper.window
        event = current_event()
        timestamp = wrapper.time_of(event)
        partition = table.partition_for(key, write=True)
        assert partition is not None
        index = self._partition_index(partition)
        stream_time = self.stream_time(partition)
        if stream_time is None or timestamp > stream_time:
            stream_time = timestamp
            self._set_meta(partition, STREAM_TIME, timestamp)
        ranges = [r for r in window.ranges(timestamp) if window.closes_at(r) > stream_time]
        if not ranges:
            self.late(wrapper, event)
            return
        if window.kind != "fixed":
            self._check_operation(partition, op)
            assert op is not None
        if window.kind == "session":
            assert op is not None
            ranges = [self._merge_session(partition, index, key, timestamp, op)]
        shard = table.shard(partition)
        default = table.default
        set_hook = table.key_set_hook
        for r in ranges:
            window_key = WindowKey(key, r)
            old = shard.get(window_key, table.dumps_key)
            if old is MISSING:
                old = default() if default is not None else None
                bisect.insort(index.setdefault(key, []), r)
            new = update(old)
            if set_hook is not None:
                set_hook(window_key, new)
            shard.set(window_key, new)

    def _check_operation(self, partition: int, op: Callable[[Any, Any], Any] | None) -> None:
        """Sliding and session windows combine stored values with the one operation that
        wrote them; it is recorded so that reads after a restart combine them the same way."""
        kind = type(self.window).__name__
        if op is None or op not in _FOLDABLE:
            raise StrmError(f"a {kind} aggregates with +=, *=, |=, &= or ^=")
        name = _OPERATION_NAMES[op]
        recorded = self._meta(partition, OPERATION)
        if recorded is None:
            self._set_meta(partition, OPERATION, name)
        elif recorded != name:
            raise StrmError(
                f"table {self.table.name!r}: its {kind} was aggregated with {recorded}; it cannot "
                f"also be aggregated with {name}"
            )

    def _operation(self, partition: int) -> Callable[[Any, Any], Any]:
        name = self._meta(partition, OPERATION)
        return _OPERATORS[name] if name is not None else operator.add

    def _merge_session(
        self,
        partition: int,
        index: dict[Any, list[Range]],
        key: Any,
        timestamp: float,
        op: Callable[[Any, Any], Any],
    ) -> Range:
        """The session the event joins, after merging every open session it bridges."""
        window = self.window
        gap = window.gap  # type: ignore[attr-defined]
        closed_upto = self._meta(partition, CLOSED_UPTO)
        table = self.table
        shard = table.shard(partition)
        start, end = timestamp, timestamp + gap
        touching = [
            r
            for r in index.get(key, [])
            if r[0] < end
            and timestamp < r[1]
            and (closed_upto is None or window.closes_at(r) > closed_upto)
        ]
        if len(touching) == 1 and touching[0][0] <= timestamp and end <= touching[0][1]:
            return touching[0]
        merged: Any = MISSING
        for r in touching:
            start, end = min(start, r[0]), max(end, r[1])
            value = shard.get(WindowKey(key, r), table.dumps_key)
            if value is not MISSING:
                merged = value if merged is MISSING else op(merged, value)
            shard.delete(WindowKey(key, r))
            index[key].remove(r)
        if merged is not MISSING:
            shard.set(WindowKey(key, (start, end)), merged)
            bisect.insort(index.setdefault(key, []), (start, end))
        return (start, end)

    def late(self, wrapper: WindowWrapper, event: Event | None) -> None:
        self.late_events += 1
        target = wrapper.late_events
        if target is not None and event is not None:
            app = self.table.app
            app.runtime.spawn_send(event.forward(app.resolve_channel(target)))

    def delete_key(self, wrapper: WindowWrapper, key: Any) -> None:
        partition = self.table.partition_for(key, write=True)
        assert partition is not None
        shard = self.table.shard(partition)
        del_hook = self.table.key_del_hook
        for r in self._partition_index(partition).pop(key, []):
            if del_hook is not None:
                del_hook(WindowKey(key, r))
            shard.delete(WindowKey(key, r))

    # -- reads -----------------------------------------------------------------------------------

    def value_at(
        self, wrapper: WindowWrapper, key: Any, timestamp: float, earliest: bool = False
    ) -> Any:
        """The value of ``key`` in the window of ``timestamp`` (the latest window containing
        it, or the ``earliest``), ``MISSING`` when that window has none."""
        partition = self.table.partition_for(key)
        if partition is None:
            return MISSING
        return self.value_in(partition, wrapper, key, timestamp, earliest)

    def value_in(
        self,
        partition: int,
        wrapper: WindowWrapper,
        key: Any,
        timestamp: float,
        earliest: bool = False,
    ) -> Any:
        """:meth:`value_at` in a known partition (listings read partition by partition)."""
        window = wrapper.window
        ranges = self._partition_index(partition).get(key, [])
        if window.kind == "sliding":
            low, high = window.current(timestamp)
            op = self._operation(partition)
            result: Any = MISSING
            for r in ranges:
                if low <= r[0] <= high:
                    value = self._get(partition, WindowKey(key, r))
                    if value is not MISSING:
                        result = value if result is MISSING else op(result, value)
            return result
        if window.kind == "session":
            for r in ranges:
                if r[0] <= timestamp < r[1]:
                    return self._get(partition, WindowKey(key, r))
            return MISSING
        r = window.earliest(timestamp) if earliest else window.current(timestamp)
        return self._get(partition, WindowKey(key, r))

    def _get(self, partition: int, window_key: WindowKey) -> Any:
        table = self.table
        hook = table.key_get_hook
        if hook is not None:
            hook(window_key)
        return table.shard(partition).get(window_key, table.dumps_key)

    def now_time(self, key: Any) -> float:
        """Faust's "now" of a windowed table: while an event is processed, the stream time of
        the key's partition; otherwise, or before that partition has a stream time, the wall
        clock."""
        if current_event() is not None:
            partition = self.table.partition_for(key)
            if partition is not None:
                stream_time = self.stream_time(partition)
                if stream_time is not None:
                    return stream_time
        return time.time()

    def partition_now(self, partition: int) -> float:
        """:meth:`now_time` for every key of a partition."""
        stream_time = self.stream_time(partition) if current_event() is not None else None
        return time.time() if stream_time is None else stream_time

    def lookup(self, window_key: WindowKey) -> Any:
        """One window's value, ``MISSING`` when it has none."""
        partition = self.table.partition_for(window_key.key)
        if partition is None:
            return MISSING
        return self._get(partition, window_key)

    def read(self, window_key: WindowKey) -> Any:
        """One window's value, ``None`` when it has none (what ``on_window_close`` gets)."""
        value = self.lookup(window_key)
        return None if value is MISSING else value

    def holds(self, partition: int, key: Any) -> bool:
        """Whether ``key`` has windows in a partition."""
        return bool(self._partition_index(partition).get(key))

    def local_keys(self) -> Iterator[tuple[int, Any]]:
        """``(partition, key)`` of each key with windows in a partition this worker owns."""
        for partition in self.table.local_partitions:
            for key, ranges in list(self._partition_index(partition).items()):
                if ranges:
                    yield partition, key

    def window_keys(self) -> Iterator[WindowKey]:
        for partition in self.table.local_partitions:
            for key, ranges in list(self._partition_index(partition).items()):
                for r in ranges:
                    yield WindowKey(key, r)

    # -- closing and expiry ----------------------------------------------------------------------

    def due(self) -> tuple[list[WindowKey], list[tuple[int, WindowKey]]]:
        """Windows newly closed by stream time (in order of closing) and windows to remove.

        Windows close in order of their end, so how far they are closed is one number per
        partition, stored with the table: a window is never closed twice, restart or not.
        """
        window = self.window
        closing: list[tuple[float, WindowKey]] = []
        expired: list[tuple[int, WindowKey]] = []
        for partition in self.table.local_partitions:
            now = self.stream_time(partition)
            if now is None:
                continue
            closed_upto = self._meta(partition, CLOSED_UPTO)
            for key, ranges in self._partition_index(partition).items():
                for r in ranges:
                    closes = window.closes_at(r)
                    if closes <= now and (closed_upto is None or closes > closed_upto):
                        closing.append((closes, WindowKey(key, r)))
                    if window.expires_at(r) <= now:
                        expired.append((partition, WindowKey(key, r)))
            if closed_upto is None or now > closed_upto:
                self._set_meta(partition, CLOSED_UPTO, now)
        return [window_key for _, window_key in sorted(closing)], expired

    def remove(self, partition: int, window_key: WindowKey) -> None:
        self.table.shard(partition).delete(window_key)
        index = self._partition_index(partition)
        ranges = index.get(window_key.key)
        if ranges is not None:
            r = (window_key.start, window_key.end)
            if r in ranges:
                ranges.remove(r)
            if not ranges:
                del index[window_key.key]
