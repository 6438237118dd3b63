"""strm: stream processing for Python on a small plugin kernel.

``strm.App`` is the entry point; ``strm.hookimpl`` marks a plugin's hook implementations (see
:mod:`strm.kernel.hookspecs`).
"""

from typing import Any

from strm import codecs, serializers
from strm.agents.agent import Agent
from strm.app import App
from strm.channels import Channel, Topic
from strm.codecs import Codec
from strm.events import Event, current_event
from strm.kernel import records
from strm.kernel.auth import (
    Credentials,
    GSSAPICredentials,
    OAuthCredentials,
    SASLCredentials,
    SSLCredentials,
)
from strm.kernel.errors import (
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
from strm.kernel.hookspecs import hookimpl
from strm.kernel.ids import uuid
from strm.kernel.records import Provision
from strm.kernel.settings.catalogue import ProcessingGuarantee
from strm.kernel.settings.conf import Conf as Settings
from strm.kernel.spi import TP
from strm.models import FieldDescriptor, Model, ModelOptions, Record
from strm.schema import Schema
from strm.sensors import Monitor, NoMonitor, Sensor
from strm.services import Service, ServiceT
from strm.streams import Stream
from strm.tables.global_table import GlobalTable
from strm.tables.set_table import SetGlobalTable, SetTable
from strm.tables.table import Table
from strm.tables.windows import HoppingWindow, SlidingWindow, TumblingWindow, Window
from strm.types import AgentT, AppT, ChannelT, EventT, ModelT, StreamT, TableT, TopicT
from strm.worker import Worker


def __getattr__(name: str) -> Any:
    """``strm.AppCommand`` and ``strm.Command`` (Faust's), and ``strm.option`` and
    ``strm.argument`` (click's), imported on first use: an app that defines no command never
    loads the command line, nor click."""
    if name in ("AppCommand", "Command"):
        from strm.cli import app_commands

        return getattr(app_commands, name)
    if name in ("argument", "option"):
        import click

        return getattr(click, name)
    raise AttributeError(f"module 'strm' has no attribute {name!r}")


__all__ = [
    "TP",
    "Agent",
    "AgentT",
    "App",
    "AppCommand",
    "AppT",
    "BackendNotFoundError",
    "Channel",
    "ChannelT",
    "Codec",
    "CodecError",
    "Command",
    "ConfigurationError",
    "Credentials",
    "Event",
    "EventT",
    "FieldDescriptor",
    "GSSAPICredentials",
    "GlobalTable",
    "HoppingWindow",
    "KeyDecodeError",
    "Model",
    "ModelOptions",
    "ModelT",
    "Monitor",
    "NoMonitor",
    "OAuthCredentials",
    "PluginError",
    "ProcessingGuarantee",
    "Provision",
    "Record",
    "SASLCredentials",
    "SSLCredentials",
    "Schema",
    "Sensor",
    "Service",
    "ServiceT",
    "SetGlobalTable",
    "SetTable",
    "SettingNotSupportedError",
    "Settings",
    "SlidingWindow",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "Stream",
    "StreamT",
    "StrmError",
    "Table",
    "TableT",
    "Topic",
    "TopicT",
    "TumblingWindow",
    "ValidationError",
    "ValueDecodeError",
    "Window",
    "Worker",
    "argument",
    "codecs",
    "current_event",
    "hookimpl",
    "option",
    "records",
    "serializers",
    "uuid",
]
