"""A service's logger, as mode's ``self.log``: each message prefixed with the service's label."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

# -- logging -------------------------------------------------------------------------------------


class CompositeLogger:
    """A logger's methods (``info``, ``warning``, ``exception``...) with every message passed
    through ``formatter`` first: a service prefixes its messages with its label this way.

    Records name the caller of ``info()`` and its siblings as their origin, not this class.
    """

    def __init__(self, logger: logging.Logger, formatter: Callable[..., str] | None = None) -> None:
        self.logger = logger
        self.formatter = formatter

    def log(self, severity: int, message: str, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(severity, self.format(severity, message, *args, **kwargs), *args, **kwargs)

    def format(self, severity: int, message: str, *args: Any, **kwargs: Any) -> str:
        if self.formatter is None:
            return message
        return self.formatter(severity, message, *args, **kwargs)

    def _at(self, severity: int, message: str, args: tuple[Any, ...], kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 4)
        self.log(severity, message, *args, **kwargs)

    def debug(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._at(logging.DEBUG, message, args, kwargs)

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._at(logging.INFO, message, args, kwargs)

    def warning(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._at(logging.WARNING, message, args, kwargs)

    warn = warning

    def error(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._at(logging.ERROR, message, args, kwargs)

    def critical(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._at(logging.CRITICAL, message, args, kwargs)

    crit = critical

    def exception(self, message: str, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self._at(logging.ERROR, message, args, kwargs)


def level_number(level: int | str) -> int:
    """A logging level given by number or by name (``"info"``, ``"DEBUG"``)."""
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown logging level {level!r}")
    return number
