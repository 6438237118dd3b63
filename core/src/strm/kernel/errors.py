"""The exceptions strm raises on purpose.

Every error a user can cause by configuration or by installing the wrong thing derives from
:class:`StrmError`, so the CLI can show it as one short line (exit code 2) instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class StrmError(Exception):
    """Base class of the errors strm raises deliberately."""


class ConfigurationError(StrmError):
    """A setting has an unknown name, a bad value, or cannot be changed any more."""


class SettingNotSupportedError(ConfigurationError):
    """A setting exists in the specification but this version of strm does not act on it yet.

    Raised instead of silently accepting a value that would be ignored.
    """


class PluginError(StrmError):
    """A plugin could not be loaded, or two plugins claim the same name."""


class BackendNotFoundError(ConfigurationError):
    """A URL scheme or name that no installed plugin provides."""


class CodecError(StrmError):
    """A value could not be encoded or decoded by its codec."""


class KeyDecodeError(CodecError):
    """A message key could not be decoded."""


class ValueDecodeError(CodecError):
    """A message value could not be decoded."""


class ValidationError(StrmError, ValueError):
    """A model's field values do not fit its declared types or constraints.

    Raised once per record with every problem listed, so one bad event shows all of its faults
    instead of the first. A per-field error carries ``field``, ``expected`` and ``value``; the
    error raised for a whole record carries those per-field errors in ``errors``.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        expected: str | None = None,
        value: object = None,
        errors: Sequence[ValidationError] = (),
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.expected = expected
        self.value = value
        self.errors = list(errors)


class DeadLetterError(StrmError):
    """A record that failed could not be sent to the dead-letter topic.

    It stops the worker instead of skipping the record: its offset is not committed, so the
    record is read again once the cause (named in the message) is fixed.
    """


class StoreError(StrmError):
    """A table store failed; the message names the table, the partition and what to do."""


class StoreLockedError(StoreError):
    """A store's files are in use by another process (another worker on the same datadir)."""


class StoreCorruptError(StoreError):
    """A store's files cannot be read; deleting them lets strm rebuild the table from its
    changelog."""
