"""The windowed part of a table (:class:`WindowState`): per partition, which windows each key
has, the stream time, how far windows are closed and the operation that sliding and session
windows combine with; kept beside the windows as :class:`MetaKey` entries, so in the changelog."""

from __future__ import annotations

import bisect
import operator
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from strm.events import Event, current_event
from strm.kernel.errors import StrmError
from strm.tables.shard import MISSING
from strm.tables.windows import OPERATORS, Range, Window, WindowKey

if TYPE_CHECKING:
    from strm.tables.table import Collection
    from strm.tables.windows import WindowWrapper

#: Operations whose results can be folded over sliding buckets or merged sessions.
_FOLDABLE = {operator.add, operator.mul, operator.and_, operator.xor, operator.or_}


class MetaKey(NamedTuple):
    """A windowed table's own bookkeeping, stored beside the windows (and so in the
    changelog): its stream time, how far windows are closed, the aggregating operation."""

    name: str


STREAM_TIME = MetaKey("stream-time")
CLOSED_UPTO = MetaKey("closed-upto")
OPERATION = MetaKey("operation")
_OPERATION_NAMES = {op: name for name, op in OPERATORS.items()}


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
        return OPERATORS[name] if name is not None else operator.add

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
