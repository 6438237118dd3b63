"""Log lines for machines (``strm --log-format json``): one JSON object per line.

A log call about one record passes the record's position with ``extra=log_position(...)``; the
text format keeps its message as it is, and a JSON line carries the position as fields too. A
log call made while an agent processes an event (the app's own ``logger.info`` inside the agent)
gets that event's position from the stream its task iterates. Positions are read only when a
line is written, so the format costs nothing per event.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from strm.events import current_event

#: The ``extra`` fields that place a log line in a topic; a JSON line shows those present.
POSITION_FIELDS = ("topic", "partition", "offset")


def log_position(topic: str, partition: int, offset: int | None = None) -> dict[str, Any]:
    """``extra`` for a log call about a record (or, without ``offset``, a partition)."""
    position: dict[str, Any] = {"topic": topic, "partition": partition}
    if offset is not None:
        position["offset"] = offset
    return position


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message``, ``app``, ``pid``, the position where known, and ``exc_info`` (the formatted
    traceback) and ``stack_info`` when the record has them.

    Non-ASCII text is escaped, so every line is valid whatever the encoding of the file or
    stream it is written to; newlines in messages and tracebacks are escaped too, so one record
    is always one line.
    """

    def __init__(self, app_id: str) -> None:
        super().__init__()
        self.app_id = app_id

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "app": self.app_id,
            "pid": record.process,
        }
        line.update(_position(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # default=str: values given in ``extra`` by the app need not be JSON types.
        return json.dumps(line, default=str)


def _position(record: logging.LogRecord) -> dict[str, Any]:
    given = {name: getattr(record, name) for name in POSITION_FIELDS if hasattr(record, name)}
    if given:
        return given
    event = current_event()
    if event is None:
        return {}
    message = event.message
    return log_position(message.topic, message.partition, message.offset)
