"""The worker's logging levels as ``-l`` takes them: Faust's names and Python's, so that
``-l warning`` works as ``-l warn`` does."""

LOGLEVELS = ("crit", "critical", "error", "warn", "warning", "info", "debug")

#: Each name, as the ``logging`` level name it means.
LEVELS = {
    "crit": "CRITICAL",
    "critical": "CRITICAL",
    "error": "ERROR",
    "warn": "WARNING",
    "warning": "WARNING",
    "info": "INFO",
    "debug": "DEBUG",
}
