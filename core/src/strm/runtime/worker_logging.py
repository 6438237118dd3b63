"""Logging for a worker process: level, file, format (text or JSON lines), the app's handlers
and dictConfig, and the redirection of ``print()`` output into logging."""

from __future__ import annotations

import io
import logging
import logging.config
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from strm.kernel.errors import ConfigurationError
from strm.kernel.settings.conf import Conf
from strm.runtime.structured_logs import JsonFormatter

LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"

#: ``--log-format``: lines for people (``LOG_FORMAT``) or one JSON object per line.
LOG_FORMATS = ("text", "json")


class LoggingWriter(io.TextIOBase):
    """A text stream that sends each complete line it receives to a logger."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self._logger = logger
        self._level = level
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._logger.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._logger.log(self._level, self._partial)
            self._partial = ""


def setup_logging(
    conf: Conf, *, loglevel: int, logfile: str | None, log_format: str = "text"
) -> None:
    formatter = log_formatter(log_format, conf.id)  # a wrong format opens no log file
    handler: logging.Handler = (
        logging.FileHandler(logfile) if logfile else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.setLevel(loglevel)
    root.handlers[:] = [handler, *conf.loghandlers]
    config: dict[str, Any] | None = conf.logging_config
    if config:
        # dictConfig disables every logger that exists and is not named in the mapping unless
        # told otherwise, which would silence strm's own loggers (strm.worker, strm.blocking).
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, **config})


def log_formatter(log_format: str, app_id: str) -> logging.Formatter:
    if log_format == "text":
        return logging.Formatter(LOG_FORMAT)
    if log_format == "json":
        return JsonFormatter(app_id)
    raise ConfigurationError(f"log format {log_format!r}: choose one of {', '.join(LOG_FORMATS)}")


@contextmanager
def redirected_stdouts(conf: Conf) -> Iterator[None]:
    """While active, ``print()`` and writes to stderr become log records, when the
    ``worker_redirect_stdouts`` setting asks for it."""
    if not conf.worker_redirect_stdouts:
        yield
        return
    level: int = conf.worker_redirect_stdouts_level
    saved: tuple[TextIO, TextIO] = (sys.stdout, sys.stderr)
    # The root handler writes to the real stderr, captured before the redirection.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setStream(sys.__stderr__ or saved[1])
    sys.stdout = LoggingWriter(logging.getLogger("strm.stdout"), level)
    sys.stderr = LoggingWriter(logging.getLogger("strm.stderr"), level)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved
