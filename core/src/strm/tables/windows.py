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
    from strm.tables.window_state import WindowState

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


OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
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


for _name, _op in OPERATORS.items():
    setattr(WindowSet, _name, _make_inplace(_name, _op))
