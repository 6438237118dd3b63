"""Windows: which time ranges an event falls in, and windowed views of a table.

Ranges are half-open, ``[start, end)``, in seconds: an event at exactly ``end`` belongs to the
next window, and sub-second sizes work. Time is *stream time* — the latest event timestamp a
table partition has seen — so windows close and expire as the data advances, not by the wall
clock, and replaying old data gives the same results.

A window closes when stream time reaches ``end + grace``: ``on_window_close(key, value)`` is
called once for it. An event that only falls in closed windows is *late*: it is counted, and
dropped, or sent to ``late_events`` when the windowed table names a topic there. Window data is
removed ``expires`` seconds after the window's end (at close when ``expires`` is not given), by
a cleanup every ``table_cleanup_interval`` seconds.
"""

from __future__ import annotations

import abc
import bisect
import math
import operator
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from strm.errors import StrmError
from strm.events import Event, current_event
from strm.tables.shard import MISSING

if TYPE_CHECKING:
    from strm.channels import Topic
    from strm.tables.table import Collection

Range = tuple[float, float]


class WindowKey(NamedTuple):
    """How a windowed table stores a value: the user's key and the window's range."""

    key: Any
    start: float
    end: float


class Window(abc.ABC):
    """Base class: subclasses say which ranges contain a timestamp."""

    #: Sliding and session windows aggregate on read or merge on write (see their classes).
    kind = "fixed"

    def __init__(self, *, expires: float | None = None, grace: float = 0.0) -> None:
        if grace < 0:
            raise StrmError(f"a window's grace period cannot be negative, got {grace}")
        if expires is not None and expires < grace:
            raise StrmError(
                f"expires={expires} is shorter than grace={grace}: a window would be removed "
                "before it closes"
            )
        self.expires = expires
        self.grace = grace

    @abc.abstractmethod
    def ranges(self, timestamp: float) -> list[Range]:
        """The ranges an event at ``timestamp`` is stored in, oldest first."""

    def current(self, timestamp: float) -> Range:
        """The range reported as "current" for a timestamp: the latest one containing it."""
        return self.ranges(timestamp)[-1]

    def closes_at(self, window: Range) -> float:
        return window[1] + self.grace

    def expires_at(self, window: Range) -> float:
        return window[1] + (self.expires if self.expires is not None else self.grace)


class TumblingWindow(Window):
    """Fixed-size windows that do not overlap: ``[0, size), [size, 2 size), ...``."""

    def __init__(self, size: float, **kwargs: Any) -> None:
        if size <= 0:
            raise StrmError(f"a tumbling window needs a positive size, got {size}")
        super().__init__(**kwargs)
        self.size = size

    def ranges(self, timestamp: float) -> list[Range]:
        start = math.floor(timestamp / self.size) * self.size
        return [(start, start + self.size)]


class HoppingWindow(Window):
    """Windows of ``size`` seconds starting every ``step`` seconds; an event is in each one
    that contains it (``size / step`` of them when ``step`` divides ``size``)."""

    def __init__(self, size: float, step: float, **kwargs: Any) -> None:
        if size <= 0 or step <= 0:
            raise StrmError(f"a hopping window needs a positive size and step, got {size}, {step}")
        if step > size:
            raise StrmError(f"a hopping window's step ({step}) cannot exceed its size ({size})")
        super().__init__(**kwargs)
        self.size = size
        self.step = step

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

    def __init__(self, before: float, after: float = 0.0, **kwargs: Any) -> None:
        if before < 0 or after < 0:
            raise StrmError(f"a sliding window needs before, after >= 0, got {before}, {after}")
        super().__init__(**kwargs)
        self.before = before
        self.after = after

    def ranges(self, timestamp: float) -> list[Range]:
        return [(timestamp, timestamp)]  # the bucket the event is stored in

    def current(self, timestamp: float) -> Range:
        return (timestamp - self.before, timestamp + self.after)

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

    def __init__(self, gap: float, **kwargs: Any) -> None:
        if gap <= 0:
            raise StrmError(f"a session window needs a positive gap, got {gap}")
        super().__init__(**kwargs)
        self.gap = gap

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
    """A windowed view of a table: ``counts = app.Table('c', default=int).tumbling(60)``."""

    def __init__(
        self,
        table: Collection,
        window: Window,
        *,
        relative_to: Callable[[Event | None], float] | None = None,
        late_events: Topic | str | None = None,
    ) -> None:
        self.table = table
        self.window = window
        self.late_events = late_events
        self._relative_to = relative_to or _event_time
        table.use_window(self)
        assert table.window_state is not None
        self.state: WindowState = table.window_state

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
        return self._derive(_event_time)

    def relative_to_field(self, field: Any) -> WindowWrapper:
        """Windows by a field of the event's value (a number of seconds or a datetime)."""
        getter = field.getattr if hasattr(field, "getattr") else (lambda v: getattr(v, field))

        def at(event: Event | None) -> float:
            if event is None:
                raise StrmError("relative_to_field() needs an event being processed")
            return _seconds(getter(event.value))

        return self._derive(at)

    def relative_to(self, fun: Callable[[Event | None], float]) -> WindowWrapper:
        """Windows by any function of the current event."""
        return self._derive(fun)

    def time_of(self, event: Event | None = None) -> float:
        return self._relative_to(event if event is not None else current_event())

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

    def keys(self) -> Iterator[WindowKey]:
        return self.state.window_keys()

    def __iter__(self) -> Iterator[WindowKey]:
        return self.state.window_keys()

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has any window (a :class:`WindowKey`: that very window)."""
        if isinstance(key, WindowKey):
            return key in set(self.state.window_keys())
        return self.state.has_key(key)

    def items(self) -> Iterator[tuple[WindowKey, Any]]:
        for window_key in self.keys():
            yield window_key, self.state.read(window_key)

    def as_dict(self) -> dict[WindowKey, Any]:
        return dict(self.items())


class WindowSet:
    """The windows of one key: ``counts['k'].current()``, ``counts['k'] += 1``."""

    def __init__(self, wrapper: WindowWrapper, key: Any) -> None:
        self.wrapper = wrapper
        self.key = key

    def apply(self, op: Callable[[Any, Any], Any], value: Any) -> WindowSet:
        """Update every window the current time falls in with ``op(old, value)``."""
        self.wrapper.state.write(self.wrapper, self.key, lambda old: op(old, value), op)
        return self

    def value(self, event: Event | None = None) -> Any:
        """The window current for the relative time (the event's, by default)."""
        return self._at(self.wrapper.time_of(event))

    def current(self, event: Event | None = None) -> Any:
        """The window current for the event being processed (stream time)."""
        return self._at(_event_time(event if event is not None else current_event()))

    def now(self) -> Any:
        """The window current for the wall clock."""
        return self._at(time.time())

    def delta(self, seconds: float, event: Event | None = None) -> Any:
        """The window that was current ``seconds`` before the relative time."""
        return self._at(self.wrapper.time_of(event) - seconds)

    def _at(self, timestamp: float) -> Any:
        return self.wrapper.state.value_at(self.wrapper, self.key, timestamp)

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
        for start, end in ranges:
            window_key = WindowKey(key, start, end)
            old = shard.get(window_key, table.dumps_key)
            if old is MISSING:
                old = default() if default is not None else None
                bisect.insort(index.setdefault(key, []), (start, end))
            shard.set(window_key, update(old))

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
            value = shard.get(WindowKey(key, *r), table.dumps_key)
            if value is not MISSING:
                merged = value if merged is MISSING else op(merged, value)
            shard.delete(WindowKey(key, *r))
            index[key].remove(r)
        if merged is not MISSING:
            shard.set(WindowKey(key, start, end), merged)
            bisect.insort(index.setdefault(key, []), (start, end))
        return (start, end)

    def late(self, wrapper: WindowWrapper, event: Event | None) -> None:
        self.late_events += 1
        target = wrapper.late_events
        if target is not None and event is not None:
            app = self.table.app
            app.spawn(event.forward(app.resolve_channel(target)))

    def delete_key(self, wrapper: WindowWrapper, key: Any) -> None:
        partition = self.table.partition_for(key, write=True)
        assert partition is not None
        shard = self.table.shard(partition)
        for start, end in self._partition_index(partition).pop(key, []):
            shard.delete(WindowKey(key, start, end))

    # -- reads -----------------------------------------------------------------------------------

    def value_at(self, wrapper: WindowWrapper, key: Any, timestamp: float) -> Any:
        table = self.table
        window = wrapper.window
        default = table.default() if table.default is not None else None
        partition = table.partition_for(key)
        if partition is None:
            return default
        shard = table.shard(partition)
        ranges = self._partition_index(partition).get(key, [])
        if window.kind == "sliding":
            low, high = window.current(timestamp)
            op = self._operation(partition)
            result: Any = MISSING
            for start, end in ranges:
                if low <= start <= high:
                    value = shard.get(WindowKey(key, start, end), table.dumps_key)
                    if value is not MISSING:
                        result = value if result is MISSING else op(result, value)
            return default if result is MISSING else result
        if window.kind == "session":
            for start, end in ranges:
                if start <= timestamp < end:
                    value = shard.get(WindowKey(key, start, end), table.dumps_key)
                    return default if value is MISSING else value
            return default
        start, end = window.current(timestamp)
        value = shard.get(WindowKey(key, start, end), table.dumps_key)
        return default if value is MISSING else value

    def has_key(self, key: Any) -> bool:
        partition = self.table.partition_for(key)
        return partition is not None and bool(self._partition_index(partition).get(key))

    def read(self, window_key: WindowKey) -> Any:
        partition = self.table.partition_for(window_key.key)
        if partition is None:
            return None
        value = self.table.shard(partition).get(window_key, self.table.dumps_key)
        return None if value is MISSING else value

    def window_keys(self) -> Iterator[WindowKey]:
        for partition in self.table.local_partitions:
            for key, ranges in list(self._partition_index(partition).items()):
                for start, end in ranges:
                    yield WindowKey(key, start, end)

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
                        closing.append((closes, WindowKey(key, *r)))
                    if window.expires_at(r) <= now:
                        expired.append((partition, WindowKey(key, *r)))
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


def _event_time(event: Event | None) -> float:
    if event is None:
        raise StrmError(
            "this windowed table is relative to the stream: use it while processing an event, "
            "or use relative_to_now()"
        )
    return event.message.timestamp


def _seconds(value: Any) -> float:
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
