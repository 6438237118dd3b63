"""The exceptions strm raises on purpose.

Every error a user can cause by configuration or by installing the wrong thing derives from
:class:`StrmError`, so the CLI can show it as one short line (exit code 2) instead of a traceback.
"""

from __future__ import annotations


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
