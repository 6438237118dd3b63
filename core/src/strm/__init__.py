"""strm: stream processing for Python on a small plugin kernel.

``strm.App`` is the entry point; ``strm.hookimpl`` marks a plugin's hook implementations (see
:mod:`strm.hookspecs`).
"""

from strm import records
from strm.app import App
from strm.auth import (
    Credentials,
    GSSAPICredentials,
    OAuthCredentials,
    SASLCredentials,
    SSLCredentials,
)
from strm.errors import (
    BackendNotFoundError,
    CodecError,
    ConfigurationError,
    KeyDecodeError,
    PluginError,
    SettingNotSupportedError,
    StrmError,
    ValueDecodeError,
)
from strm.hookspecs import hookimpl
from strm.records import Provision
from strm.settings.catalogue import ProcessingGuarantee
from strm.spi import TP
from strm.worker import Worker

__all__ = [
    "TP",
    "App",
    "BackendNotFoundError",
    "CodecError",
    "ConfigurationError",
    "Credentials",
    "GSSAPICredentials",
    "KeyDecodeError",
    "OAuthCredentials",
    "PluginError",
    "ProcessingGuarantee",
    "Provision",
    "SASLCredentials",
    "SSLCredentials",
    "SettingNotSupportedError",
    "StrmError",
    "ValueDecodeError",
    "Worker",
    "hookimpl",
    "records",
]
