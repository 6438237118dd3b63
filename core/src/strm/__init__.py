"""strm: stream processing for Python on a small plugin kernel.

``strm.App`` is the entry point; ``strm.hookimpl`` marks a plugin's hook implementations (see
:mod:`strm.hookspecs`).
"""

from click import argument, option

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
    ValidationError,
    ValueDecodeError,
)
from strm.hookspecs import hookimpl
from strm.models import FieldDescriptor, ModelOptions, Record
from strm.records import Provision
from strm.schema import Schema
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
    "FieldDescriptor",
    "GSSAPICredentials",
    "KeyDecodeError",
    "ModelOptions",
    "OAuthCredentials",
    "PluginError",
    "ProcessingGuarantee",
    "Provision",
    "Record",
    "SASLCredentials",
    "SSLCredentials",
    "Schema",
    "SettingNotSupportedError",
    "StrmError",
    "ValidationError",
    "ValueDecodeError",
    "Worker",
    "argument",
    "hookimpl",
    "option",
    "records",
]
