"""The blocking detector: logs where the event loop is stuck when it stops turning.

A coroutine on the loop records a heartbeat; a daemon thread watches it and, when the heartbeat
is older than the timeout, logs the loop thread's current stack. A thread is used rather than
``SIGALRM`` so that system calls in C extensions are never interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
import traceback

logger = logging.getLogger("strm.blocking")


class BlockingDetector:
    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("the blocking timeout must be positive")
        self.timeout = timeout
        self._interval = timeout / 4
        self._last_beat = time.monotonic()
        self._loop_thread_id = threading.get_ident()
        self._stopped = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    async def __aenter__(self) -> BlockingDetector:
        self._loop_thread_id = threading.get_ident()
        self._last_beat = time.monotonic()
        self._task = asyncio.create_task(self._beat(), name="strm-blocking-heartbeat")
        self._thread = threading.Thread(target=self._watch, name="strm-blocking-watch", daemon=True)
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopped.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            self._thread.join(timeout=self._interval * 2)

    async def _beat(self) -> None:
        while True:
            self._last_beat = time.monotonic()
            await asyncio.sleep(self._interval)

    def _watch(self) -> None:
        reported_beat = None
        while not self._stopped.wait(self._interval):
            beat = self._last_beat
            blocked_for = time.monotonic() - beat
            if blocked_for > self.timeout and beat != reported_beat:
                reported_beat = beat
                frame = sys._current_frames().get(self._loop_thread_id)
                stack = "".join(traceback.format_stack(frame)) if frame else "(no stack)"
                logger.warning(
                    "The event loop has been blocked for %.2f s (blocking_timeout=%.2f s); "
                    "it is running:\n%s",
                    blocked_for,
                    self.timeout,
                    stack,
                )
