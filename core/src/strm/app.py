"""The App: a thin composition root.

It holds what the user configured and gives each part of strm what it needs: the settings
(``app.conf``), the plugins (``app.plugins``) and the backends and classes they provide. It is
configured lazily, on first use of ``app.conf`` or when a worker starts, so that the command line
can add plugins and settings after the user's module created the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.metadata as metadata
import os
import re
from collections import Counter
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from strm.agents.agent import Agent
from strm.agents.replies import Replies
from strm.agents.supervisors import Supervisor
from strm.builtins.plugins import BUILTIN_PLUGINS, ESSENTIAL_PLUGINS
from strm.caches.front import AppCache
from strm.channels import Channel, Subscription, Topic
from strm.codecs.registry import Serializers
from strm.kernel.app_protocol import ServiceFactory
from strm.kernel.errors import BackendNotFoundError, ConfigurationError, PluginError
from strm.kernel.flow_control import FlowControl
from strm.kernel.model_types import ModelTypes
from strm.kernel.plugins import command_line
from strm.kernel.plugins.known import FIRST_PARTY_SETTINGS
from strm.kernel.plugins.manager import StrmPluginManager
from strm.kernel.records import Provision
from strm.kernel.redaction import redact_url
from strm.kernel.settings.catalogue import KERNEL_SETTINGS, ProcessingGuarantee
from strm.kernel.settings.conf import COMMAND_LINE, DEFAULT, Conf
from strm.kernel.settings.setting import Setting
from strm.kernel.settings.types import import_by_name, url_scheme
from strm.kernel.spi import (
    TP,
    Cache,
    Consumer,
    RecordMetadata,
    Transport,
)
from strm.router import Router
from strm.runtime.backend_contexts import cache_context, transport_context
from strm.runtime.conductor import Conductor
from strm.runtime.deadletters import DeadLetters
from strm.runtime.producer_handle import ProducerHandle
from strm.runtime.producing import Producers, check_threaded_producer
from strm.runtime.runtime import Runtime
from strm.runtime.sender import Partitioner, Sender
from strm.runtime.table_manager import TableManager
from strm.sensors import Monitor, SensorSet
from strm.signals import Signal, SyncSignal
from strm.streams import Stream
from strm.tables.table import Collection
from strm.web.cors import ResourceOptions
from strm.web.server import Web
from strm.web.views import View

if TYPE_CHECKING:
    from strm.agents.agent import AgentErrorHandler

#: URL settings and the kind of backend each one picks.
BACKEND_SETTINGS: dict[str, str] = {
    "broker": "transport",
    "broker_consumer": "transport",
    "broker_producer": "transport",
    "store": "store",
    "cache": "cache",
    "web": "web",
    "web_transport": "web_transport",
}


class App:
    """A strm application: ``app = strm.App('myapp', broker='kafka://localhost:9092')``.

    ``plugins`` adds plugins as ``--plugin`` does (module paths, entry point names, ``no:NAME``).
    ``environ`` replaces ``os.environ`` as the source of environment settings (tests use it);
    ``entry_points=False`` loads only built-in and explicitly named plugins.
    """

    # Faust's signals: ``@app.on_partitions_assigned.connect`` hears this app; connected on
    # the class (``@App.on_configured.connect``), a receiver hears every app. Receivers are
    # called ``(app, *args, signal=..., **kwargs)``.
    on_before_configured: SyncSignal[None] = SyncSignal()
    on_configured: SyncSignal[Conf] = SyncSignal()
    on_after_configured: SyncSignal[None] = SyncSignal()
    on_partitions_assigned: Signal[set[TP]] = Signal()
    on_partitions_revoked: Signal[set[TP]] = Signal()
    on_rebalance_complete: Signal[None] = Signal()
    on_before_shutdown: Signal[None] = Signal()
    on_worker_init: SyncSignal[None] = SyncSignal()
    on_produce_message: SyncSignal[None] = SyncSignal()

    def __init__(
        self,
        id: str,
        *,
        plugins: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        entry_points: bool = True,
        **settings: Any,
    ) -> None:
        if not isinstance(id, str) or not id.strip():
            raise ConfigurationError(f"the app id must be a non-empty string, got {id!r}")
        self._id = id
        self._plugin_selection: list[str] = list(plugins)
        self._environ = environ
        self._entry_points = entry_points
        self._given: dict[str, Any] = dict(settings)
        # Classes and functions taken from config objects: settings only if some setting has the
        # name, since a config module also holds the helpers it imports (``timedelta``).
        self._loose_names: set[str] = set()
        self._overrides: dict[str, Any] = {}
        self._plugins: StrmPluginManager | None = None
        self._conf: Conf | None = None
        self._serializers: Serializers | None = None
        self._cache: AppCache | None = None
        #: ``app.add_service`` factories, started in this order after the agents.
        self.service_factories: list[ServiceFactory] = []
        self.agents: dict[str, Agent] = {}
        #: What runs between start and stop, and owns every task of it.
        self.runtime = Runtime(self)
        self.dead_letters = DeadLetters(self)
        self._topics_by_name: dict[str, Topic] = {}
        self._transports: dict[str, Transport] = {}
        self._replies: Replies | None = None
        self.sensors = SensorSet(())
        self.sent_counts: Counter[str] = Counter()
        # @app.task/timer/crontab and @app.command (the section at the end of the class)
        from strm.runtime.timers import BackgroundTasks

        self.background = BackgroundTasks(self)
        #: The app's own commands (``click.Command`` by name): the CLI is imported only by
        #: ``@app.command``, never by an app that has none.
        self.commands: dict[str, Any] = {}
        self._discovered = False
        for name in _SIGNALS:
            setattr(self, name, getattr(App, name).with_default_sender(self))
        #: True from a rebalance's start until its partitions are recovered.
        self.rebalancing = False
        self._rebalance_completion: asyncio.Task[BaseException | None] | None = None
        self.flow_control = FlowControl(self.runtime.conductor.suspend)
        self.producer = ProducerHandle(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._router: Router | None = None
        #: The routes of ``@app.page`` and the web server's life cycle (:mod:`strm.web`).
        self.web = Web(self)
        self._http_client: Any = None

    def __repr__(self) -> str:
        state = "configured" if self._conf is not None else "not configured"
        return f"<strm.App {self._id!r} ({state})>"

    @property
    def conductor(self) -> Conductor:
        """Consumes the subscribed topics, feeds the streams and runs the checkpoints."""
        return self.runtime.conductor

    @property
    def producers(self) -> Producers:
        return self.runtime.producers

    # -- configuration ---------------------------------------------------------------------------

    def config_from_object(self, obj: Any) -> None:
        """Take settings from a mapping, an object, a module or the dotted path of one.

        From objects and modules, public attributes that are settings are taken. Upper-case
        constants and modules are skipped, and so are classes and functions whose name is no
        setting (the helpers a config module imports); any other unknown attribute is reported as
        an unknown setting, so a misspelt name does not pass silently.
        """
        self._ensure_not_configured("config_from_object()")
        if isinstance(obj, str):
            obj = _import_config(obj)
        if isinstance(obj, Mapping):
            self._given.update(obj)
            self._loose_names.difference_update(obj)
            return
        for name in dir(obj):
            if name.startswith("_") or name.isupper():
                continue
            value = getattr(obj, name)
            if isinstance(value, ModuleType):
                continue
            self._given[name] = value
            if callable(value):
                self._loose_names.add(name)
            else:
                self._loose_names.discard(name)

    def use_plugins(self, *specs: str) -> None:
        """Add ``--plugin`` values before the plugins are loaded."""
        if self._plugins is not None:
            raise PluginError("plugins are already loaded; add them before the app is configured")
        self._plugin_selection.extend(specs)

    def override_settings(self, **values: Any) -> None:
        """Settings from the command line: they beat environment variables and arguments."""
        if self._conf is not None:
            for name, value in values.items():
                self._conf.set(name, value, COMMAND_LINE)
            return
        self._overrides.update(values)

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def plugins(self) -> StrmPluginManager:
        """This app's plugin manager, loaded on first use (with the ``--plugin`` values and the
        ``--debug`` tracing of a ``strm`` command running now)."""
        if self._plugins is None:
            given = command_line.current()
            self._plugins = StrmPluginManager(
                self._plugin_selection,
                environ=self.environ,
                entry_points=self._entry_points,
                command_line=given.plugins,
                trace=given.trace,
                builtins=BUILTIN_PLUGINS,
                essential=ESSENTIAL_PLUGINS,
            )
        return self._plugins

    @property
    def conf(self) -> Conf:
        """The app's settings; reading them configures the app."""
        if self._conf is None:
            self.configure()
        assert self._conf is not None
        return self._conf

    @property
    def configured(self) -> bool:
        return self._conf is not None

    def configure(self) -> App:
        """Load plugins, check every setting and resolve the configured backends.

        Any problem is raised here, at start-up, as a :class:`strm.kernel.errors.StrmError`.
        """
        if self._conf is not None:
            return self
        self.on_before_configured.send()
        plugins = self.plugins
        plugins.check_provisions()
        specs = _merge_settings(KERNEL_SETTINGS, plugins.settings())
        unavailable = {k: v for k, v in FIRST_PARTY_SETTINGS.items() if k not in specs}
        known = {*specs, *(alias.name for spec in specs.values() for alias in spec.aliases)}
        given = {
            name: value
            for name, value in self._given.items()
            if name not in self._loose_names or name in known
        }
        conf = Conf(
            app_id=self._id,
            specs=specs,
            given=given,
            environ=self.environ,
            overrides=self._overrides,
            unavailable=unavailable,
            version=metadata.version("strm"),
        )
        self._conf = conf
        try:
            for setting in BACKEND_SETTINGS:
                if conf.source_of(setting) is not DEFAULT:
                    self.resolve_backend(setting)
            self._serializers = self._make_serializers()
            check_threaded_producer(self)
        except BaseException:
            self._conf = None
            raise
        self._attach_sensors()
        self.on_configured.send(conf)
        plugins.hook.strm_app_configured(app=self)
        self.on_after_configured.send()
        return self

    def finalize(self) -> None:
        """Faust's name for settling the configuration: :meth:`configure`."""
        self.configure()

    def _attach_sensors(self) -> None:
        monitor_cls: type[Monitor] = self.extension_class("Monitor")
        self.monitor = monitor_cls(self)
        extra = [p.factory(self) for p in self.plugins.provisions("sensor").values()]
        self.sensors = SensorSet([self.monitor, *extra])

    def sent_by_topic(self) -> dict[str, int]:
        """Records sent so far, by topic (the Monitor reads this)."""
        return dict(self.sent_counts)

    def _ensure_not_configured(self, what: str) -> None:
        if self._conf is not None:
            raise ConfigurationError(f"{what} must be called before the app is configured")

    # -- what plugins provide --------------------------------------------------------------------

    def resolve_backend(self, setting: str, url: str | None = None) -> Provision:
        """The provision a backend URL setting (or an explicit ``url``) picks by its scheme."""
        kind = BACKEND_SETTINGS[setting]
        value = getattr(self.conf, setting) if url is None else url
        first = value[0] if isinstance(value, list) else value
        return self.plugins.resolve(
            kind, url_scheme(first), setting=setting, value=redact_url(first)
        )

    def extension_class(self, setting: str) -> type:
        """The class for an extension setting: the user's if set, else the providing plugin's."""
        explicit = getattr(self.conf, setting)
        if explicit is not None:
            return explicit  # type: ignore[no-any-return]
        provision = self.plugins.resolve("class", setting, setting=setting)
        return provision.factory  # type: ignore[return-value]

    def _make_serializers(self) -> Serializers:
        cls = self.extension_class("Serializers")
        factories = {name: p.factory for name, p in self.plugins.provisions("codec").items()}
        serializers: Serializers = cls(
            factories,
            key_serializer=self.conf.key_serializer,
            value_serializer=self.conf.value_serializer,
        )
        provided = self.plugins.provisions("model_type").values()
        serializers.model_types = ModelTypes(p.factory() for p in provided)
        return serializers

    @property
    def serializers(self) -> Serializers:
        """The codec registry, built with the ``key_serializer``/``value_serializer`` defaults."""
        self.configure()
        assert self._serializers is not None
        return self._serializers

    @property
    def cache(self) -> AppCache:
        """The cache the ``cache`` setting picks, created on first use: a miss, not an error,
        while its server is down (strm.caches.front); ``app.cache.view()`` caches views."""
        if self._cache is None:
            self._cache = self.make_cache(self.conf.cache)
        return self._cache

    @cache.setter
    def cache(self, cache: Cache) -> None:
        self._cache = cache if isinstance(cache, AppCache) else AppCache(cache, owner=self.conf.id)

    def make_cache(self, url: str) -> AppCache:
        """A cache of the backend ``url`` picks, as ``app.cache`` is one."""
        factory = self.resolve_backend("cache", url=url).factory
        backend: Cache = factory(url=url, context=cache_context(self))
        return AppCache(backend, url=url, owner=self.conf.id)

    async def close_cache(self) -> None:
        """Close the cache's connections (a later use opens them again)."""
        if self._cache is not None:
            await self._cache.close()

    # -- channels, topics, streams and agents ---------------------------------------------------

    def topic(
        self,
        *topics: str,
        pattern: str | re.Pattern[str] | None = None,
        schema: Any = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        acks: bool = True,
        internal: bool = False,
        config: Mapping[str, Any] | None = None,
        maxsize: int | None = None,
        allow_empty: bool = False,
        has_prefix: bool = False,
    ) -> Topic:
        """Describe one or more topics (``app.topic('orders', value_type=Order)``)."""
        cls: type[Topic] = self.extension_class("Topic")
        topic = cls(
            self,
            topics=topics,
            pattern=pattern,
            schema=schema,
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            partitions=partitions,
            retention=retention,
            compacting=compacting,
            deleting=deleting,
            replicas=replicas,
            acks=acks,
            internal=internal,
            config=config,
            maxsize=maxsize,
            allow_empty=allow_empty,
            has_prefix=has_prefix,
        )
        for name in topics:
            self._topics_by_name.setdefault(name, topic)
        return topic

    def channel(
        self,
        *,
        schema: Any = None,
        key_type: Any = None,
        value_type: Any = None,
        maxsize: int | None = None,
    ) -> Channel:
        """An in-memory channel: agents and streams can read it, anything can send to it."""
        return Channel(
            self, schema=schema, key_type=key_type, value_type=value_type, maxsize=maxsize
        )

    def resolve_channel(self, channel: Channel | str) -> Channel:
        """A channel object, or the topic of that name."""
        if isinstance(channel, Channel):
            return channel
        if isinstance(channel, str):
            return self._topics_by_name.get(channel) or self.topic(channel)
        raise TypeError(f"expected a channel, a topic or a topic name, not {channel!r}")

    def stream(self, source: Channel | str | Iterable[Any] | AsyncIterable[Any]) -> Stream:
        """A stream over a channel, a topic (or its name), or a plain (async) iterable."""
        if isinstance(source, Channel | str):
            return self.stream_over(self.resolve_channel(source).new_subscription())
        cls: type[Stream] = self.extension_class("Stream")
        return cls(self, iterable=source)

    def stream_over(self, subscription: Subscription, *, shared: bool = False) -> Stream:
        """A stream reading an existing subscription (agents' instances share one)."""
        cls: type[Stream] = self.extension_class("Stream")
        stream = cls(self, subscription=subscription, shared=shared)
        subscription.readers.append(stream)
        return stream

    def agent(
        self,
        channel: Channel | str | None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        supervisor_strategy: Any = None,
        sink: Iterable[Any] | None = None,
        isolated_partitions: bool = False,
        use_reply_headers: bool = True,
        on_error: AgentErrorHandler | None = None,
        help: str | None = None,
        **topic_options: Any,
    ) -> Callable[[Callable[..., Any]], Agent]:
        """Decorate ``async def fun(stream)`` to run it over a channel or topic.

        Without a channel the agent gets its own internal topic, ``<app id>-<agent name>``;
        a string names a topic; ``topic_options`` (``key_type``, ``value_type``, ``partitions``
        ...) describe that topic. ``on_error(agent, exc)`` is awaited when an instance raises;
        ``help`` is shown by ``strm agents``.
        """

        def decorate(fun: Callable[..., Any]) -> Agent:
            agent_name = name or f"{fun.__module__}.{fun.__qualname__}"
            if agent_name in self.agents:
                raise ConfigurationError(f"two agents are named {agent_name!r}")
            if isinstance(channel, Channel):
                if topic_options:
                    raise ConfigurationError(
                        f"agent {agent_name}: topic options {sorted(topic_options)} only apply "
                        "when the agent names its topic"
                    )
                source: Channel = channel
            else:
                topic_name = channel or f"{self.conf.id}-{agent_name}"
                source = self.topic(topic_name, internal=channel is None, **topic_options)
            cls: type[Agent] = self.extension_class("Agent")
            agent = cls(
                fun,
                app=self,
                channel=source,
                name=agent_name,
                concurrency=concurrency,
                sink=sink,
                isolated_partitions=isolated_partitions,
                supervisor_strategy=supervisor_strategy,
                on_error=on_error,
                help=help,
                use_reply_headers=use_reply_headers,
            )
            self.agents[agent_name] = agent
            return agent

        return decorate

    def supervisor_for(self, agent: Agent) -> Supervisor:
        """The supervisor of an agent: its own strategy, else the ``agent_supervisor`` setting."""
        strategy = agent.supervisor_strategy or self.conf.agent_supervisor
        if isinstance(strategy, str):
            strategy = self.plugins.resolve(
                "supervisor", strategy, setting="agent_supervisor"
            ).factory
        supervisor: Supervisor = strategy(agent.name)
        return supervisor

    async def send(
        self,
        channel: Channel | str,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Sequence[tuple[str, bytes]] | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Awaitable[RecordMetadata]:
        """Send one record to a channel, a topic or a topic name."""
        return await self.resolve_channel(channel).send(
            key=key,
            value=value,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        )

    def is_leader(self) -> bool:
        """Whether this worker is the group's leader (it runs ``on_leader`` tasks)."""
        return self.conductor.is_leader()

    # -- transports --------------------------------------------------------------------------------

    def transport(self, setting: str = "broker") -> Transport:
        """The transport a broker URL setting picks, created once per setting value."""
        urls: list[str] = getattr(self.conf, setting)
        key = ";".join(urls)
        transport = self._transports.get(key)
        if transport is None:
            factory = self.resolve_backend(setting).factory
            context = transport_context(self)
            transport = self._transports[key] = factory(context=context, urls=urls)
        return transport

    async def get_sender(self) -> Sender:
        """The app's sender, starting its producer on first use."""
        return await self.producers.get_sender()

    async def get_soon_sender(self) -> Sender:
        """The sender of ``send_soon`` records (a producer of its own thread with
        ``producer_threaded``)."""
        return await self.producers.get_soon_sender()

    @property
    def partitioner(self) -> Partitioner:
        """The producer partitioner the ``producer_partitioner`` setting picks."""
        chosen = self.conf.producer_partitioner
        if chosen is None:
            chosen = "murmur2"
        if isinstance(chosen, str):
            return self.plugins.resolve(
                "partitioner", chosen, setting="producer_partitioner"
            ).factory
        return chosen  # type: ignore[no-any-return]

    async def get_replies(self) -> Replies:
        """This instance's reply topic reader, started on first use."""
        if self._replies is None:
            self._replies = Replies(self)
        await self._replies.start()
        return self._replies

    @property
    def exactly_once(self) -> bool:
        return bool(self.conf.processing_guarantee is ProcessingGuarantee.EXACTLY_ONCE)

    # -- tables ----------------------------------------------------------------------------------

    @property
    def tables(self) -> TableManager:
        """The app's tables, by name (the ``TableManager`` extension class)."""
        return self.runtime.tables

    def Table(self, name: str, *, default: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        """A sharded, changelog-backed table: ``app.Table('counts', default=int)``."""
        return self._table("Table", name, default=default, **kwargs)

    def GlobalTable(
        self, name: str, *, default: Callable[[], Any] | None = None, **kwargs: Any
    ) -> Any:
        """A table every worker holds whole: ``app.GlobalTable('config')``."""
        return self._table("GlobalTable", name, default=default, **kwargs)

    def SetTable(self, name: str, **kwargs: Any) -> Any:
        """A table of sets: ``app.SetTable('tags')``; ``tags['k'].add('x')``."""
        return self._table("SetTable", name, **kwargs)

    def SetGlobalTable(self, name: str, **kwargs: Any) -> Any:
        """A table of sets every worker holds whole."""
        return self._table("SetGlobalTable", name, **kwargs)

    def _table(self, setting: str, name: str, **kwargs: Any) -> Any:
        cls: type[Collection] = self.extension_class(setting)
        return self.tables.add(cls(self, name=name, **kwargs))

    def crash(self, error: BaseException) -> None:
        """A part of the app failed beyond recovery: the app stops and raises ``error``."""
        self.runtime.fail(error)

    @property
    def crash_error(self) -> BaseException | None:
        """The error that stopped the app, if one did."""
        return self.runtime.error

    async def wait_crashed(self) -> BaseException:
        """Wait until a part of the app fails; returns the error."""
        return await self.runtime.wait_failed()

    # -- lifecycle -------------------------------------------------------------------------------

    def add_service(self, factory: ServiceFactory) -> None:
        """Run ``factory(app)``, an async context manager, while the app runs.

        Services start in the order they were added and stop in reverse.
        """
        if self.runtime.is_running:
            raise RuntimeError("cannot add a service to a running app")
        self.service_factories.append(factory)

    def add_dependency(self, service: Any) -> Any:
        """Faust's (mode's) name for ``@app.service`` with a service instance: it starts with
        the app, after its agents and tasks, and stops before them."""
        self.service(service)
        return service

    async def add_runtime_dependency(self, service: Any) -> Any:
        """Faust's: as :meth:`add_dependency`, before the app starts; a running app takes no
        new service yet."""
        if self.is_running:
            raise RuntimeError(
                f"app.add_runtime_dependency({service!r}): adding a service to a running app is "
                "not supported yet; add it before the app starts (app.add_dependency or "
                "@app.service)"
            )
        return self.add_dependency(service)

    async def start(self) -> None:
        """Configure, freeze the settings and start everything (strm.runtime); for tests and
        notebooks too."""
        if self.runtime.is_running:
            return
        self.configure()
        self.autodiscover()
        self.conf.freeze()
        self.runtime.tracebacks = self.runtime.tracebacks or bool(self.conf.debug)
        if self.conf.source_of("cache") is not DEFAULT:
            self.cache  # noqa: B018 (a bad cache URL or option is a start-up error)
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop in reverse order of start: services, timers, fetching (with a last commit),
        agents, and finally the producer, after flushing it.

        If a part of the app failed (:meth:`crash`), the app has stopped by itself, and that
        error is raised here, so that ``async with app.running():`` does not end as if all
        went well.
        """
        try:
            await self.runtime.stop()
        finally:
            await self.close_cache()

    async def stop_replies(self) -> None:
        if self._replies is not None:
            replies, self._replies = self._replies, None
            await replies.stop()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        """``async with app.running():`` starts the app and stops it on exit."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    @property
    def is_running(self) -> bool:
        return self.runtime.is_running

    async def notify_partitions_assigned(self, assigned: Iterable[TP]) -> None:
        """Called by the conductor after a rebalance: tells every plugin, then the receivers
        of :attr:`on_partitions_assigned` (one that raises is logged, and the others and the
        worker go on); :attr:`on_rebalance_complete` follows once the partitions are
        recovered."""
        tps = sorted(assigned)
        self.plugins.notify(
            "strm_partitions_assigned", f"assigned {_partitions(tps)}", app=self, assigned=tps
        )
        await self.on_partitions_assigned.send_supervised(set(tps))
        if self._rebalance_completion is None:
            self._rebalance_completion = self.runtime.spawn(
                self._complete_rebalance(), name="rebalance completion"
            )

    async def notify_partitions_revoked(self, revoked: Iterable[TP]) -> None:
        """Called by the conductor when partitions are taken away, before they are given to
        others: the plugins, then :attr:`on_partitions_revoked`."""
        self.rebalancing = True
        tps = sorted(revoked)
        self.plugins.notify(
            "strm_partitions_revoked", f"revoked {_partitions(tps)}", app=self, revoked=tps
        )
        await self.on_partitions_revoked.send_supervised(set(tps))

    async def _complete_rebalance(self) -> None:
        self.rebalancing = True
        try:
            tables = self.runtime.tables_in_use
            if tables is not None:
                await tables.wait_recovered()
        finally:
            self._rebalance_completion = None
        self.rebalancing = False
        await self.on_rebalance_complete.send_supervised()

    # -- the web server ---------------------------------------------------------------------------

    def page(
        self,
        path: str,
        *,
        base: type[View] = View,
        cors_options: Mapping[str, ResourceOptions] | None = None,
        name: str | None = None,
    ) -> Callable[[Any], type[View]]:
        """``@app.page('/orders/{id}/')`` on an ``async def get(self, request, id)`` handler or
        a :class:`strm.web.View` subclass: serve it at ``path`` (see :mod:`strm.web`). Returns
        the View class; ``cors_options`` by origin take precedence over ``web_cors_options``."""
        return self.web.page(path, base=base, cors_options=cors_options, name=name)

    @property
    def http_client(self) -> Any:
        """An HTTP client for views and agents that call out (the ``HttpClient`` class, an
        ``aiohttp.ClientSession`` with strm-web-aiohttp), made on first use, inside the
        event loop, and closed when the app stops."""
        if self._http_client is None:
            try:
                cls = self.extension_class("HttpClient")
            except BackendNotFoundError:
                raise ConfigurationError(
                    "app.http_client: no installed plugin provides the HttpClient class; "
                    "pip install 'strm[web]' (the strm-web-aiohttp plugin), or set HttpClient"
                ) from None
            self._http_client = cls()
        return self._http_client

    @http_client.setter
    def http_client(self, client: Any) -> None:
        self._http_client = client

    async def close_http_client(self) -> None:
        """Close ``app.http_client`` if it was made; the next use makes a new one."""
        client, self._http_client = self._http_client, None
        close = getattr(client, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result

    # -- cluster routing -------------------------------------------------------------------------

    @property
    def router(self) -> Router:
        """Which worker holds a table's key or a topic's key (the ``Router`` class):
        ``app.router.key_store('counts', 'k')`` is that worker's URL."""
        router = self._router
        if router is None:
            cls: type[Router] = self.extension_class("Router")
            router = self._router = cls(self)
        return router

    def table_route(
        self,
        table: Collection | str,
        shard_param: str | None = None,
        *,
        query_param: str | None = None,
        match_info: str | None = None,
        exact_key: str | None = None,
        standby_ok: bool = False,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Decorate a view method or page handler so that a request for a key of ``table``
        (from the query parameter ``query_param``, the path's ``{match_info}``, or always
        ``exact_key``) is answered by the worker that holds the key: here, or forwarded
        (see :mod:`strm.web.routing`). ``standby_ok=True`` lets a worker keeping a standby
        copy of the key's partition answer from it, as fresh as the owner's last
        checkpoint."""
        from strm.web.routing import table_route

        return table_route(
            self,
            table,
            shard_param,
            query_param=query_param,
            match_info=match_info,
            exact_key=exact_key,
            standby_ok=standby_ok,
        )

    def topic_route(
        self,
        topic: Topic | str,
        shard_param: str | None = None,
        *,
        query_param: str | None = None,
        match_info: str | None = None,
        exact_key: str | None = None,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """As :meth:`table_route`, for the worker consuming the partition of ``topic`` that
        the key is sent to."""
        from strm.web.routing import topic_route

        return topic_route(
            self,
            topic,
            shard_param,
            query_param=query_param,
            match_info=match_info,
            exact_key=exact_key,
        )

    # -- Faust's app attributes ------------------------------------------------------------------

    @property
    def should_stop(self) -> bool:
        """True once the app is asked to stop (or a part of it failed): loops of tasks and
        services check it."""
        return self.runtime.stopping

    async def sleep(self, seconds: float | timedelta) -> None:
        """Sleep, but return early when the app stops (Faust's ``Service.sleep``)."""
        await self.runtime.sleep(
            seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        )

    @property
    def consumer(self) -> Consumer:
        """The running consumer (strm's ``Consumer``: ``assignment()``, ``pause()``,
        ``resume()``, ``seek()``, ``commit()``, ``committed()``, ...)."""
        consumer = self.conductor.consumer
        if consumer is None:
            raise RuntimeError(
                f"app {self._id!r} has no consumer until it is started (app.start(), or a worker)"
            )
        return consumer

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running event loop; outside one, a loop of the app's own (made once), as Faust's
        ``app.loop`` is usable before the worker starts."""
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
            return self._loop

    # -- tasks, timers, services and commands ----------------------------------------------------

    def task(
        self,
        fun: Callable[..., Awaitable[Any]] | None = None,
        *,
        on_leader: bool = False,
        traced: bool = True,
        name: str | None = None,
    ) -> Any:
        """``@app.task`` or ``@app.task(on_leader=False, name=None)``: run ``async def f()`` or
        ``async def f(app)`` once, after the agents and the consumer have started; cancelled
        when the app stops. ``on_leader`` runs it only if this worker is the leader then.

        Any callable giving a coroutine works (a ``functools.partial``, a bound method).
        ``traced`` is Faust's: a span per run where a tracer is configured; strm has no tracer
        yet, so either value runs the task untraced, as Faust does without one."""
        from strm.runtime.timers import Job

        def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.background.add(Job(self, f, name=name, on_leader=on_leader))
            return f

        return decorate if fun is None else decorate(fun)

    def timer(
        self,
        interval: float | timedelta,
        on_leader: bool = False,
        traced: bool = True,
        name: str | None = None,
        max_drift_correction: float = 0.1,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """``@app.timer(10.0)``: run ``async def f()`` or ``f(app)`` every ``interval`` seconds
        (a number or a timedelta), first one interval after start, without drift; see
        :class:`strm.runtime.timers.Timer`. Runs are scheduled on whole multiples of the interval,
        so there is no drift for Faust's ``max_drift_correction`` to correct; ``traced`` as
        for :meth:`task`."""
        from strm.runtime.timers import Timer

        def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.background.add(Timer(self, f, interval=interval, name=name, on_leader=on_leader))
            return f

        return decorate

    def crontab(
        self,
        cron_format: str,
        *,
        timezone: Any = None,
        on_leader: bool = False,
        traced: bool = True,
        name: str | None = None,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """``@app.crontab('*/5 * * * *')``: run at the times of a cron expression, on the wall
        clock of ``timezone`` (a tzinfo or a name; default: the ``timezone`` setting). The
        syntax and the handling of DST changes are described in :mod:`strm.runtime.cron`."""
        from strm.runtime.timers import Crontab

        def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.background.add(
                Crontab(
                    self,
                    f,
                    cron_format=cron_format,
                    timezone=timezone,
                    name=name,
                    on_leader=on_leader,
                )
            )
            return f

        return decorate

    def service(self, obj: Any) -> Any:
        """``@app.service``: run a service while the app runs, started after the tasks and
        stopped in reverse order. A class with ``async def start(self)``/``stop(self)``, an
        async context manager class, or a factory ``f(app)`` as :meth:`add_service` takes."""
        from strm.runtime.timers import service_factory

        self.add_service(service_factory(obj))
        return obj

    def command(
        self,
        *options: Any,
        base: type | None = None,
        name: str | None = None,
        help: str | None = None,
    ) -> Any:
        """``@app.command(click.option('--n', type=int))``: make ``async def cmd(self, n)`` (or
        ``cmd(n)``) the command ``strm -A proj.app cmd --n 3``; see
        :mod:`strm.cli.app_commands`. The name defaults to the function's, ``_`` as ``-``;
        ``base`` is the :class:`strm.AppCommand` subclass ``self`` is an instance of."""
        import inspect

        from strm.cli.app_commands import AppCommand, make_command

        def decorate(f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            command = make_command(self, f, options, name=name, help=help, base=base or AppCommand)
            assert command.name is not None  # make_command always names it
            if command.name in self.commands:
                raise ConfigurationError(f"two app commands are named {command.name!r}")
            self.commands[command.name] = command
            return f

        if len(options) == 1 and inspect.iscoroutinefunction(options[0]):
            bare, options = options[0], ()  # @app.command without parentheses
            return decorate(bare)
        return decorate

    def main(self, argv: Sequence[str] | None = None) -> None:
        """Run the ``strm`` command line for this app: ``python myapp.py worker``.

        When no ``origin`` is set, it becomes the module calling ``main()``: its import name
        under ``python -m proj.app``, its file name (``app``) under ``python proj/app.py``.
        """
        import sys

        from strm.cli.main import main
        from strm.runtime.discovery import main_origin

        if self._conf is not None:
            has_origin = self._conf.origin is not None
        else:
            has_origin = "origin" in self._overrides or "origin" in self._given
        if not has_origin:
            origin = main_origin(sys._getframe(1).f_globals.get("__name__", "__main__"))
            if origin is not None:
                self.override_settings(origin=origin)
        main(argv, app=self)

    def discover(self, *extra_modules: str) -> list[str]:
        """Import the packages the ``autodiscover`` setting names and ``extra_modules``, each
        with every module in it, so their decorators register; returns the modules imported.
        See :mod:`strm.runtime.discovery`."""
        from strm.runtime.discovery import import_packages, packages_to_scan

        conf = self.conf
        packages = packages_to_scan(conf.autodiscover, conf.origin, self.environ)
        return import_packages([*packages, *extra_modules])

    def autodiscover(self) -> list[str]:
        """Run the discovery the ``autodiscover`` setting asks for, once: the worker does it as
        the app starts, before its agents, and the ``strm`` command before reading its
        commands."""
        if self._discovered or not self._wants_autodiscovery():
            return []
        imported = self.discover()
        self._discovered = True
        return imported

    def _wants_autodiscovery(self) -> bool:
        """Whether ``autodiscover`` is set, without configuring the app only to find out."""
        if self._conf is not None:
            return bool(self._conf.autodiscover)
        from strm.kernel.settings.types import Autodiscover

        value = self._overrides.get("autodiscover", self._given.get("autodiscover", False))
        try:
            return bool(Autodiscover().coerce(value))
        except ValueError:
            return True  # configuring reports the bad value


#: The signals each app binds to itself (the class attributes above).
_SIGNALS = (
    "on_before_configured",
    "on_configured",
    "on_after_configured",
    "on_partitions_assigned",
    "on_partitions_revoked",
    "on_rebalance_complete",
    "on_before_shutdown",
    "on_worker_init",
    "on_produce_message",
)


def _partitions(tps: Sequence[TP]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in tps) or "no partitions"


def _merge_settings(kernel: Iterable[Setting], plugin: Iterable[Setting]) -> dict[str, Setting]:
    specs = {spec.name: spec for spec in kernel}
    for spec in plugin:
        other = specs.get(spec.name)
        if other is not None:
            raise PluginError(
                f"setting {spec.name!r} is declared by both {other.distribution} and "
                f"{spec.distribution}"
            )
        specs[spec.name] = spec
    return specs


def _import_config(path: str) -> Any:
    """A module path (``'proj.settings'``) or the path of an object in one."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        pass
    try:
        return import_by_name(path)
    except ValueError as exc:
        raise ConfigurationError(f"config_from_object({path!r}): {exc}") from None
