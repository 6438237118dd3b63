"""strm: stream processing for Python on a small plugin kernel.

``strm.App`` is the entry point; ``strm.hookimpl`` marks a plugin's hook implementations (see
:mod:`strm.hookspecs`).
"""

from click import argument, option

from strm import records
from strm.agents.agent import Agent
from strm.app import App
from strm.auth import (
    Credentials,
    GSSAPICredentials,
    OAuthCredentials,
    SASLCredentials,
    SSLCredentials,
)
from strm.channels import Channel, Topic
from strm.errors import (
    BackendNotFoundError,
    CodecError,
    ConfigurationError,
    KeyDecodeError,
    PluginError,
    SettingNotSupportedError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StrmError,
    ValidationError,
    ValueDecodeError,
)
from strm.events import Event, current_event
from strm.hookspecs import hookimpl
from strm.models import FieldDescriptor, ModelOptions, Record
from strm.records import Provision
from strm.schema import Schema
from strm.sensors import Monitor, Sensor
from strm.settings.catalogue import ProcessingGuarantee
from strm.spi import TP
from strm.streams import Stream
from strm.worker import Worker

__all__ = [
    "TP",
    "Agent",
    "App",
    "BackendNotFoundError",
    "Channel",
    "CodecError",
    "ConfigurationError",
    "Credentials",
    "Event",
    "FieldDescriptor",
    "GSSAPICredentials",
    "KeyDecodeError",
    "ModelOptions",
    "Monitor",
    "OAuthCredentials",
    "PluginError",
    "ProcessingGuarantee",
    "Provision",
    "Record",
    "SASLCredentials",
    "SSLCredentials",
    "Schema",
    "Sensor",
    "SettingNotSupportedError",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "Stream",
    "StrmError",
    "Topic",
    "ValidationError",
    "ValueDecodeError",
    "Worker",
    "argument",
    "current_event",
    "hookimpl",
    "option",
    "records",
]
