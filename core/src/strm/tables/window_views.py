"""``keys()``, ``items()`` and ``values()`` of a windowed table, as Faust gives them.

Each key of a windowed table has many windows, so a listing has to pick one per key: iterating
a view reads the window of the wrapper's time, and ``now()``, ``current()`` and ``delta(d)``
read the window a :class:`~strm.tables.windows.WindowSet` method of that name would. A key
whose chosen window has no value is listed with the table's ``default()``, or left out when
the table has no default.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from strm.events import Event, current_event
from strm.tables.shard import MISSING
from strm.tables.window_time import Seconds, event_time, want_seconds

if TYPE_CHECKING:
    from strm.tables.windows import WindowWrapper


class WindowedView(abc.ABC):
    """What the three views share: choosing the window, and reading it for every key."""

    def __init__(self, wrapper: WindowWrapper, event: Event | None = None) -> None:
        self._wrapper = wrapper
        self.event = event

    @abc.abstractmethod
    def _shape(self, key: Any, value: Any) -> Any:
        """What the view yields for a key and its value."""

    def __iter__(self) -> Iterator[Any]:
        timestamp = self._wrapper.time_of(self.event)
        return self._listing(lambda partition: timestamp)

    def __len__(self) -> int:
        return len(self._wrapper)

    def now(self) -> Iterator[Any]:
        """Each key in its earliest window containing its partition's stream time."""
        return self._listing(self._wrapper.state.partition_now, earliest=True)

    def current(self, event: Event | None = None) -> Iterator[Any]:
        """Each key in the window of the event's timestamp."""
        timestamp = event_time(event or self.event or current_event())
        return self._listing(lambda partition: timestamp)

    def delta(self, d: Seconds, event: Event | None = None) -> Iterator[Any]:
        """Each key in the window that was current ``d`` before the event's timestamp."""
        timestamp = event_time(event or self.event or current_event())
        timestamp -= want_seconds(d, "a window delta")
        return self._listing(lambda partition: timestamp)

    def _listing(self, when: Callable[[int], float], earliest: bool = False) -> Iterator[Any]:
        wrapper = self._wrapper
        state = wrapper.state
        default = wrapper.table.default
        for partition, key in state.local_keys():
            value = state.value_in(partition, wrapper, key, when(partition), earliest)
            if value is MISSING:
                if default is None:
                    continue
                value = default()
            yield self._shape(key, value)


class WindowedKeysView(WindowedView):
    """``windowed.keys()``: the keys."""

    def _shape(self, key: Any, value: Any) -> Any:
        return key


class WindowedItemsView(WindowedView):
    """``windowed.items()``: ``(key, value)`` pairs."""

    def _shape(self, key: Any, value: Any) -> Any:
        return key, value


class WindowedValuesView(WindowedView):
    """``windowed.values()``: the values."""

    def _shape(self, key: Any, value: Any) -> Any:
        return value
