"""What a worker tells the person who started it: lines on stderr beside the log, like the banner.

The ready line and the recovery progress are written here rather than logged because they are
news for a person, not records of events: at the default level (``warn``) a log record would have
to claim to be a warning to be seen, and a handler aimed at a file or a collector (``--logfile``,
``loghandlers``) should not receive a terminal's progress display. What they report is logged
too, at INFO, for those who keep logs. With ``--log-format json`` the console is silent, as stderr
then carries nothing but JSON lines.
"""

from __future__ import annotations

from typing import TextIO

from strm.runtime.recovery_progress import RecoveryProgress
from strm.sensors import Sensor

PREFIX = "strm worker: "
#: Back to the start of the line and clear it: a terminal's line that updates in place.
_REWRITE = "\r\x1b[K"


class WorkerConsole:
    """Lines for the person at the terminal; silent without a stream."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self._line_open = False

    @property
    def interactive(self) -> bool:
        """Whether a person is likely watching: the stream is a terminal."""
        return self.stream is not None and self.stream.isatty()

    def say(self, text: str) -> None:
        """A line of its own; it replaces a progress line still on the screen."""
        if self.stream is None:
            return
        start = _REWRITE if self._line_open else ""
        self._line_open = False
        self.stream.write(f"{start}{PREFIX}{text}\n")
        self.stream.flush()

    def update(self, text: str) -> None:
        """A line that the next ``update`` or ``say`` overwrites (on a terminal only)."""
        if self.stream is None or not self.interactive:
            return
        self._line_open = True
        self.stream.write(f"{_REWRITE}{PREFIX}{text}")
        self.stream.flush()


class RecoveryDisplay(Sensor):
    """Table recovery on a terminal: one line updated every second, then the summary.

    The table manager reports once a second and at the end, so the display is bounded without a
    clock of its own.
    """

    def __init__(self, console: WorkerConsole) -> None:
        self.console = console

    def on_recovery_progress(self, progress: RecoveryProgress) -> None:
        if progress.finished:
            self.console.say(progress.describe())
        else:
            self.console.update(progress.describe())
