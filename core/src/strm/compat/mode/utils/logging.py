"""``mode.utils.logging``: loggers as mode makes them."""

from __future__ import annotations

import logging

from strm.services import CompositeLogger, level_number


def get_logger(name: str) -> logging.Logger:
    """The logger ``name``; one without handlers gets a ``NullHandler``, so a library's messages
    are not printed by Python's last-resort handler when the program configured no logging."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


__all__ = ["CompositeLogger", "get_logger", "level_number"]
