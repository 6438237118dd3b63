"""The runtime's event-loop lag sampler: a timer that measures how late it wakes.

A loop that some callback blocks (a CPU-bound agent, a blocking call) wakes every timer late;
the delay of one sleep every ``LOOP_LAG_INTERVAL`` seconds measures it at the cost of one wake-up
per second. Each sample goes to the sensors' ``on_loop_lag``; the Monitor also takes its rate
samples then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

#: Seconds between two samples.
LOOP_LAG_INTERVAL = 1.0


@contextlib.asynccontextmanager
async def sampling_loop_lag(
    app: AppLike, interval: float = LOOP_LAG_INTERVAL
) -> AsyncIterator[None]:
    """Sample while the block runs (the runtime's parts, from start to stop)."""
    task = app.runtime.spawn(_sample(app, interval), name="strm-loop-lag")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _sample(app: AppLike, interval: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        app.sensors.on_loop_lag(max(loop.time() - due, 0.0))


__all__ = ["LOOP_LAG_INTERVAL", "sampling_loop_lag"]
