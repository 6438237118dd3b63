"""A progress line for long command-line work (``strm send --repeat``).

On a terminal it is one line on stderr rewritten in place at most once a second; off a terminal
(a pipe, a CI log) it is a plain line at most every ``every`` seconds, so that a log file gets
lines rather than carriage returns. Either way it ends with one summary line.
"""

from __future__ import annotations

import time
from typing import TextIO

from strm.runtime.recovery_progress import eta_text

#: Back to the start of the line and clear it.
_REWRITE = "\r\x1b[K"


class ProgressLine:
    def __init__(
        self, stream: TextIO, prefix: str, total: int, *, noun: str, every: float = 1.0
    ) -> None:
        self.stream = stream
        self.prefix = prefix
        self.total = total
        self.noun = noun
        self.every = every
        self.started = time.monotonic()
        self._shown_at = self.started
        self._open = False
        self.interactive = stream.isatty()

    def describe(self, done: int, seconds: float) -> str:
        rate = done / max(seconds, 1e-9)
        percent = 100 * done / self.total if self.total else 100.0
        return (
            f"{done:,}/{self.total:,} {self.noun} ({percent:.0f}%), {rate:,.0f} {self.noun}/s, "
            f"{eta_text(self.total - done, rate)}"
        )

    def update(self, done: int) -> None:
        """Show ``done`` if the last line is old enough; cheap to call for every item."""
        now = time.monotonic()
        if now - self._shown_at < self.every:
            return
        self._shown_at = now
        text = f"{self.prefix}{self.describe(done, now - self.started)}"
        if self.interactive:
            self._open = True
            self.stream.write(f"{_REWRITE}{text}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def finish(self, summary: str) -> None:
        """The last line, replacing the progress line on a terminal."""
        start = _REWRITE if self._open else ""
        self._open = False
        self.stream.write(f"{start}{self.prefix}{summary}\n")
        self.stream.flush()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
