"""The kernel's settings: the configuration reference, one declaration per setting.

Settings owned by a plugin (the Aerospike store's, or the Kafka client's knobs such as
``producer_acks``) are declared by that plugin through the ``strm_settings`` hook, not here: the
kernel keeps only what it acts on itself, whatever the backend.
"""

from __future__ import annotations

import logging
import socket
import ssl
from enum import Enum

from strm.kernel.auth import Credentials
from strm.kernel.settings.conf import Conf
from strm.kernel.settings.setting import Alias, Setting
from strm.kernel.settings.types import (
    URL,
    Autodiscover,
    Bool,
    CallableRef,
    ClassRef,
    CodecRef,
    EnumType,
    InstanceOf,
    Int,
    ListOf,
    LogLevel,
    MappingType,
    NameOrClass,
    PathType,
    Seconds,
    Str,
    Timezone,
    URLList,
    ssl_context_type,
)


class ProcessingGuarantee(Enum):
    AT_LEAST_ONCE = "at_least_once"
    EXACTLY_ONCE = "exactly_once"


# What a pending setting waits for; the error message names it.
WEB = "the web server"


def _web_host(conf: Conf) -> str:
    """the machine's host name"""
    return socket.gethostname()


def _canonical_url(conf: Conf) -> str:
    """'http://{web_host}:{web_port}'"""
    return f"http://{conf.web_host}:{conf.web_port}"


def _reply_to(conf: Conf) -> str:
    """reply_to_prefix followed by a random UUID"""
    import uuid

    return f"{conf.reply_to_prefix}{uuid.uuid4()}"


def _class(name: str, doc: str, section: str = "Extension", pending: str | None = None) -> Setting:
    return Setting(name, ClassRef(optional=True), doc, section=section, pending=pending)


KERNEL_SETTINGS: tuple[Setting, ...] = (
    # -- common ------------------------------------------------------------------------------
    Setting(
        "autodiscover",
        Autodiscover(),
        "Packages to scan for agents, tasks, timers, views "
        "and commands: True (the app's origin), a list of packages, or a callable returning "
        "one.",
        default=False,
    ),
    Setting(
        "datadir",
        PathType(),
        "Directory for this instance's local data; '{conf.name}' is replaced by the app id.",
        default="{conf.name}-data",
        env="APP_DATADIR",
    ),
    Setting(
        "tabledir",
        PathType(),
        "Directory for table stores; relative to datadir/v<version> unless absolute.",
        default="tables",
        env="APP_TABLEDIR",
    ),
    Setting(
        "debug",
        Bool(),
        "Development mode: the worker runs its event loop in asyncio debug "
        "mode and logs a warning that debug is on.",
        default=False,
        env="APP_DEBUG",
    ),
    Setting(
        "env_prefix",
        Str(optional=True),
        "Prefix put before every setting's environment "
        "variable name (env_prefix='MYAPP_' reads MYAPP_BROKER_URL).",
        env="APP_ENV_PREFIX",
    ),
    Setting(
        "id_format",
        Str(),
        "Format of the effective app id when version is above 1; "
        "'{id}' is the id, '{self.version}' the version.",
        default="{id}-v{self.version}",
        env="APP_ID_FORMAT",
    ),
    Setting(
        "origin",
        Str(optional=True),
        "Dotted module path of the app (set by 'strm -A'); the package autodiscovery scans.",
    ),
    Setting(
        "timezone", Timezone(), "Timezone of crontab schedules.", default="UTC", env="TIMEZONE"
    ),
    Setting(
        "version",
        Int(min=1),
        "App version; a new version is a new consumer group, new "
        "internal topics and a new data directory.",
        default=1,
        env="APP_VERSION",
    ),
    Setting(
        "blocking_timeout",
        Seconds(min=0, optional=True),
        "Log a traceback of the event loop when it is blocked for longer than this many seconds.",
        env="BLOCKING_TIMEOUT",
    ),
    Setting(
        "broker",
        URLList(),
        "Transport URL(s): a URL, a ';'-separated list or a list; the "
        "scheme picks the transport plugin.",
        default="memory://",
        env="BROKER_URL",
        aliases=(Alias("url"),),
    ),
    Setting(
        "broker_credentials",
        InstanceOf(
            Credentials, ssl.SSLContext, name="strm credentials or ssl.SSLContext", optional=True
        ),
        "Authentication for broker connections (SASL, GSSAPI, OAuth, SSL).",
        env="BROKER_CREDENTIALS",
    ),
    Setting(
        "ssl_context",
        ssl_context_type(),
        "TLS context for broker connections when no credentials are given.",
    ),
    Setting(
        "logging_config",
        MappingType(optional=True),
        "A logging.config.dictConfig mapping the worker applies at start.",
    ),
    Setting(
        "loghandlers",
        ListOf(logging.Handler, name="a list of logging.Handler"),
        "Extra logging handlers the worker attaches to the root logger.",
        default=[],
    ),
    Setting(
        "processing_guarantee",
        EnumType(ProcessingGuarantee),
        "'at_least_once' or 'exactly_once' (transactions, read_committed consumers).",
        default="at_least_once",
        env="PROCESSING_GUARANTEE",
    ),
    Setting(
        "store",
        URL(),
        "Default table store URL; the scheme picks the store plugin.",
        default="memory://",
        env="APP_STORE",
    ),
    Setting(
        "cache",
        URL(),
        "Cache backend URL; the scheme picks the cache plugin.",
        default="memory://",
        env="CACHE_URL",
    ),
    # -- agents ------------------------------------------------------------------------------
    Setting(
        "agent_supervisor",
        NameOrClass(),
        "How agent instances are restarted when they "
        "raise: a supervisor name (one_for_one, one_for_all, crashing, forfeit_one_for_one, "
        "forfeit_one_for_all) or class.",
        default="one_for_one",
        env="AGENT_SUPERVISOR",
        section="Agent",
    ),
    # -- broker ------------------------------------------------------------------------------
    Setting(
        "broker_consumer",
        URLList(),
        "Transport URL(s) for consuming only.",
        default_from="broker",
        env="BROKER_CONSUMER_URL",
        section="Broker",
    ),
    Setting(
        "broker_producer",
        URLList(),
        "Transport URL(s) for producing only.",
        default_from="broker",
        env="BROKER_PRODUCER_URL",
        section="Broker",
    ),
    Setting(
        "broker_client_id",
        Str(),
        "Client id sent to the broker.",
        default="strm",
        env="BROKER_CLIENT_ID",
        section="Broker",
        aliases=(Alias("client_id"),),
    ),
    Setting(
        "broker_commit_every",
        Int(min=1),
        "Commit once this many records were processed since the last commit, without waiting "
        "for broker_commit_interval.",
        default=10_000,
        env="BROKER_COMMIT_EVERY",
        section="Broker",
    ),
    Setting(
        "broker_commit_interval",
        Seconds(min=0),
        "Commit done offsets this often, in seconds.",
        default=2.8,
        env="BROKER_COMMIT_INTERVAL",
        section="Broker",
        aliases=(Alias("commit_interval"),),
    ),
    Setting(
        "broker_commit_livelock_soft_timeout",
        Seconds(min=0),
        "Warn when a partition's committed offset has not moved for this long while events arrive.",
        default=300.0,
        env="BROKER_COMMIT_LIVELOCK_SOFT_TIMEOUT",
        section="Broker",
    ),
    Setting(
        "broker_rebalance_timeout",
        Seconds(min=0),
        "How long the group waits for members to rejoin during a rebalance.",
        default=60.0,
        env="BROKER_REBALANCE_TIMEOUT",
        section="Broker",
    ),
    Setting(
        "broker_session_timeout",
        Seconds(min=0),
        "Group session timeout.",
        default=60.0,
        env="BROKER_SESSION_TIMEOUT",
        section="Broker",
    ),
    # -- consumer ----------------------------------------------------------------------------
    Setting(
        "consumer_auto_offset_reset",
        Str(choices=("earliest", "latest", "none")),
        "Where to start reading a partition without a committed offset.",
        default="earliest",
        env="CONSUMER_AUTO_OFFSET_RESET",
        section="Consumer",
    ),
    Setting(
        "consumer_group_instance_id",
        Str(optional=True),
        "Static group membership id.",
        env="CONSUMER_GROUP_INSTANCE_ID",
        section="Consumer",
    ),
    Setting(
        "ConsumerScheduler",
        NameOrClass(),
        "Order in which fetched batches of topics and "
        "partitions are handed to streams: a registered name or a class.",
        default="round_robin",
        section="Consumer",
    ),
    # -- serialization -----------------------------------------------------------------------
    Setting(
        "key_serializer",
        CodecRef(),
        "Default codec for keys that are not models.",
        default="raw",
        env="APP_KEY_SERIALIZER",
        section="Serialization",
    ),
    Setting(
        "value_serializer",
        CodecRef(),
        "Default codec for values that are not models.",
        default="json",
        env="APP_VALUE_SERIALIZER",
        section="Serialization",
    ),
    # -- producer ----------------------------------------------------------------------------
    Setting(
        "producer_max_request_size",
        Int(min=1),
        "Largest produce request, in bytes.",
        default=1_000_000,
        env="PRODUCER_MAX_REQUEST_SIZE",
        section="Producer",
    ),
    Setting(
        "producer_partitioner",
        CallableRef(optional=True),
        "Chooses the partition of a "
        "keyed message: a registered name, a function (key, all_partitions, available) -> "
        "int, or its dotted path. Default: Kafka's murmur2.",
        section="Producer",
    ),
    Setting(
        "producer_threaded",
        Bool(),
        "Run a second producer in its own thread for send_soon records.",
        default=False,
        env="PRODUCER_THREADED",
        section="Producer",
    ),
    # -- streams -----------------------------------------------------------------------------
    Setting(
        "recovery_consistency_check",
        Bool(),
        "Refuse to recover a table whose store claims "
        "a changelog offset beyond the changelog's end.",
        default=True,
        env="RECOVERY_CONSISTENCY_CHECK",
        section="Stream",
    ),
    Setting(
        "stream_buffer_maxsize",
        Int(min=1),
        "Most unprocessed events buffered per stream before fetching pauses (back-pressure).",
        default=4096,
        env="STREAM_BUFFER_MAXSIZE",
        section="Stream",
    ),
    Setting(
        "stream_processing_timeout",
        Seconds(min=0),
        "Warn when one event takes longer than this to process.",
        default=300.0,
        env="STREAM_PROCESSING_TIMEOUT",
        section="Stream",
    ),
    Setting(
        "stream_publish_on_commit",
        Bool(),
        "Hold messages sent while processing until the source offset commits.",
        default=False,
        section="Stream",
    ),
    Setting(
        "stream_recovery_delay",
        Seconds(min=0),
        "Pause after a rebalance before recovering tables.",
        default=0.0,
        env="STREAM_RECOVERY_DELAY",
        section="Stream",
    ),
    Setting(
        "stream_wait_empty",
        Bool(),
        "On rebalance or shutdown, finish the events in flight first.",
        default=True,
        env="STREAM_WAIT_EMPTY",
        section="Stream",
    ),
    Setting(
        "dead_letter_topic",
        Str(optional=True),
        "Where records that cannot be decoded, "
        "or whose processing raised in an agent, are sent (original bytes, with headers "
        "naming the error and the source topic, partition and offset). None: they are "
        "logged and skipped.",
        env="DEAD_LETTER_TOPIC",
        section="Stream",
    ),
    # -- agent RPC ---------------------------------------------------------------------------
    Setting(
        "reply_create_topic",
        Bool(),
        "Create and consume this instance's reply topic at start.",
        default=False,
        env="APP_REPLY_CREATE_TOPIC",
        section="RPC",
        aliases=(Alias("create_reply_topic"),),
    ),
    Setting(
        "reply_expires",
        Seconds(min=0),
        "Retention of reply topics.",
        default=86_400.0,
        env="APP_REPLY_EXPIRES",
        section="RPC",
    ),
    Setting(
        "reply_to_prefix",
        Str(),
        "Prefix of generated reply topic names.",
        default="strm-reply-",
        env="APP_REPLY_TO_PREFIX",
        section="RPC",
    ),
    Setting(
        "reply_to", Str(), "This instance's reply topic.", default_factory=_reply_to, section="RPC"
    ),
    # -- tables ------------------------------------------------------------------------------
    Setting(
        "table_cleanup_interval",
        Seconds(min=0.01),
        "How often windows are closed and expired ones removed.",
        default=30.0,
        env="TABLE_CLEANUP_INTERVAL",
        section="Table",
    ),
    Setting(
        "table_key_index_size",
        Int(min=1),
        "How many keys a table remembers the partition of, for reads outside a stream.",
        default=1000,
        env="TABLE_KEY_INDEX_SIZE",
        section="Table",
    ),
    Setting(
        "table_standby_replicas",
        Int(min=0),
        "Standby copies kept of each table partition.",
        default=1,
        env="TABLE_STANDBY_REPLICAS",
        section="Table",
        aliases=(Alias("num_standby_replicas"),),
    ),
    # -- topics ------------------------------------------------------------------------------
    Setting(
        "topic_allow_declare",
        Bool(),
        "Create the internal topics strm owns (changelogs, repartition, reply, leader).",
        default=True,
        env="TOPIC_ALLOW_DECLARE",
        section="Topic",
    ),
    Setting(
        "topic_disable_leader",
        Bool(),
        "Do not create the leader election topic.",
        default=False,
        env="TOPIC_DISABLE_LEADER",
        section="Topic",
    ),
    Setting(
        "topic_partitions",
        Int(min=1),
        "Partitions of topics strm creates.",
        default=8,
        env="TOPIC_PARTITIONS",
        section="Topic",
        aliases=(Alias("default_partitions"),),
    ),
    Setting(
        "topic_replication_factor",
        Int(min=1),
        "Replication factor of topics strm creates.",
        default=1,
        env="TOPIC_REPLICATION_FACTOR",
        section="Topic",
        aliases=(Alias("replication_factor"),),
    ),
    # -- web ---------------------------------------------------------------------------------
    Setting(
        "web",
        URL(),
        "Web server driver URL; the scheme picks the driver plugin.",
        default="aiohttp://",
        section="WebServer",
    ),
    Setting(
        "web_bind",
        Str(),
        "Interface the web server binds to.",
        default="0.0.0.0",
        env="WEB_BIND",
        section="WebServer",
    ),
    Setting(
        "web_cors_options",
        MappingType(optional=True),
        "CORS options for every view, by origin.",
        section="WebServer",
    ),
    Setting(
        "web_enabled",
        Bool(),
        "Run the web server.",
        default=True,
        env="APP_WEB_ENABLED",
        section="WebServer",
    ),
    Setting(
        "web_host",
        Str(),
        "Host name other workers use to reach this one.",
        default_factory=_web_host,
        env="WEB_HOST",
        section="WebServer",
    ),
    Setting(
        "web_in_thread",
        Bool(),
        "Serve the web server from its own thread and loop.",
        default=False,
        section="WebServer",
    ),
    Setting(
        "web_port",
        Int(min=1, max=65535),
        "Web server port.",
        default=6066,
        env="WEB_PORT",
        section="WebServer",
    ),
    Setting(
        "web_ssl_context",
        ssl_context_type(),
        "TLS context of the web server.",
        section="WebServer",
    ),
    Setting(
        "web_transport",
        URL(),
        "How the web server listens: tcp:// or unix:///path.",
        default="tcp://",
        section="WebServer",
    ),
    Setting(
        "canonical_url",
        URL(),
        "URL other workers use to reach this one.",
        default_factory=_canonical_url,
        env="NODE_CANONICAL_URL",
        section="WebServer",
    ),
    # -- worker ------------------------------------------------------------------------------
    Setting(
        "worker_redirect_stdouts",
        Bool(),
        "Send print() and stderr output of a worker to logging.",
        default=True,
        env="WORKER_REDIRECT_STDOUTS",
        section="Worker",
    ),
    Setting(
        "worker_redirect_stdouts_level",
        LogLevel(),
        "Log level of redirected output.",
        default="WARN",
        env="WORKER_REDIRECT_STDOUTS_LEVEL",
        section="Worker",
    ),
    # -- extension classes -------------------------------------------------------------------
    _class("Agent", "Class of agents made by @app.agent."),
    _class("Event", "Class of the events streams yield."),
    _class("Schema", "Default schema class of channels and topics."),
    _class("Stream", "Class of streams."),
    _class("Table", "Class made by app.Table."),
    _class("SetTable", "Class made by app.SetTable."),
    _class("GlobalTable", "Class made by app.GlobalTable."),
    _class("SetGlobalTable", "Class made by app.SetGlobalTable."),
    _class("TableManager", "The service that owns an app's tables."),
    _class("Serializers", "The codec registry that encodes and decodes keys and values."),
    _class("Worker", "The class 'strm worker' runs the app with."),
    _class("PartitionAssignor", "Assigns partitions (and table standbys) to workers of the group."),
    _class("LeaderAssignor", "Elects the leader worker for on_leader tasks."),
    _class("Router", "Finds the worker that holds a table key or topic key (app.router)."),
    _class("Topic", "Class made by app.topic."),
    _class("HttpClient", "Class of app.http_client (a web driver plugin provides one)."),
    _class("Monitor", "Collects the app's statistics (app.monitor); strm.NoMonitor: off."),
)
