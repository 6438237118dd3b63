"""The Monitor's two bounded instruments: a sliding window of durations and a rate window.

Both cost O(1) per observation (one ``deque.append``) and do their sorting or subtraction when
a snapshot is taken, so the Monitor can stay on by default.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import cast

from strm.monitor_snapshot import EMPTY_DISTRIBUTION, Distribution

#: Latest samples a :class:`Window` keeps: enough for a stable p99, small enough to sort at
#: every snapshot.
WINDOW_SAMPLES = 1000
#: Seconds over which :class:`Rates` reports events per second.
RATE_WINDOW = 10.0


class Window:
    """The latest ``size`` durations; p50 and p99 by nearest rank over them."""

    __slots__ = ("samples",)

    def __init__(self, size: int = WINDOW_SAMPLES) -> None:
        self.samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def distribution(self) -> Distribution:
        ordered = sorted(self.samples)
        n = len(ordered)
        if not n:
            return EMPTY_DISTRIBUTION
        return Distribution(
            count=n,
            avg=sum(ordered) / n,
            p50=ordered[(n - 1) // 2],
            p99=ordered[min(n - 1, round(0.99 * (n - 1)))],
            max=ordered[-1],
        )


class Rates:
    """Per-second rates of growing totals over the last ``window`` seconds.

    :meth:`sample` records the totals (the Monitor does so at each event-loop lag sample, about
    once a second); :meth:`per_second` compares the totals now with the newest sample at least
    ``window`` seconds old, or with zero at the start when there is none (a young app, or no
    sampler running: then the rate is the average since the start).
    """

    def __init__(
        self, window: float = RATE_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self.started = clock()
        self._samples: deque[tuple[float, dict[str, int]]] = deque()

    def sample(self, totals: Mapping[str, int]) -> None:
        now = self.clock()
        samples = self._samples
        samples.append((now, dict(totals)))
        # one sample older than the window is kept: it is the base of the rate
        while len(samples) > 1 and samples[1][0] <= now - self.window:
            samples.popleft()

    def per_second(self, totals: Mapping[str, int]) -> dict[str, float]:
        now = self.clock()
        edge = now - self.window
        base_time, base = self.started, cast(Mapping[str, int], {})
        for when, values in self._samples:
            if when > edge:
                break
            base_time, base = when, values
        elapsed = max(now - base_time, 1e-9)
        return {name: (value - base.get(name, 0)) / elapsed for name, value in totals.items()}


__all__ = ["RATE_WINDOW", "WINDOW_SAMPLES", "Rates", "Window"]
