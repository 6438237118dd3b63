"""The App: a thin composition root.

It holds what the user configured and gives each part of strm what it needs: the settings
(``app.conf``), the plugins (``app.plugins``) and the backends and classes they provide. It is
configured lazily, on first use of ``app.conf`` or when a worker starts, so that the command line
can add plugins and settings after the user's module created the app.

The methods are grouped by job in the modules of this package and bound here: configuring
(:mod:`strm.app.configuring`), channels and agents (:mod:`strm.app.channels`), web pages and
routing (:mod:`strm.app.routes`), tasks, timers, services and commands
(:mod:`strm.app.decorators`); the life cycle and the properties stay in the class.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import timedelta
from typing import Any

from strm.agents.agent import Agent
from strm.agents.replies import Replies
from strm.app import channels, configuring, decorators, routes
from strm.builtins.plugins import BUILTIN_PLUGINS, ESSENTIAL_PLUGINS
from strm.caches.front import AppCache
from strm.channels import Topic
from strm.codecs.registry import Serializers
from strm.kernel.app_protocol import ServiceFactory
from strm.kernel.errors import BackendNotFoundError, ConfigurationError
from strm.kernel.flow_control import FlowControl
from strm.kernel.plugins import command_line
from strm.kernel.plugins.manager import StrmPluginManager
from strm.kernel.settings.catalogue import ProcessingGuarantee
from strm.kernel.settings.conf import DEFAULT, Conf
from strm.kernel.spi import (
    TP,
    Cache,
    Consumer,
    Transport,
)
from strm.router import Router
from strm.runtime.backend_contexts import transport_context
from strm.runtime.conductor import Conductor
from strm.runtime.deadletters import DeadLetters
from strm.runtime.producer_handle import ProducerHandle
from strm.runtime.producing import Producers
from strm.runtime.runtime import Runtime
from strm.runtime.sender import Partitioner, Sender
from strm.runtime.table_manager import TableManager
from strm.sensors import Monitor, SensorSet
from strm.signals import Signal, SyncSignal
from strm.tables.table import Collection
from strm.web.server import Web


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

    #: The ``Monitor`` extension class's instance, made when the app is configured.
    monitor: Monitor

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

    config_from_object = configuring.config_from_object
    use_plugins = configuring.use_plugins
    override_settings = configuring.override_settings

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

    configure = configuring.configure
    finalize = configuring.finalize
    _attach_sensors = configuring.attach_sensors

    def sent_by_topic(self) -> dict[str, int]:
        """Records sent so far, by topic (the Monitor reads this)."""
        return dict(self.sent_counts)

    _ensure_not_configured = configuring.ensure_not_configured

    # -- what plugins provide --------------------------------------------------------------------

    resolve_backend = configuring.resolve_backend
    extension_class = configuring.extension_class
    _make_serializers = configuring.make_serializers

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

    make_cache = configuring.make_cache
    close_cache = configuring.close_cache

    # -- channels, topics, streams and agents ---------------------------------------------------

    topic = channels.topic
    channel = channels.channel
    resolve_channel = channels.resolve_channel
    stream = channels.stream
    stream_over = channels.stream_over
    agent = channels.agent
    supervisor_for = channels.supervisor_for
    send = channels.send

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

    page = routes.page

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

    close_http_client = routes.close_http_client

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

    table_route = routes.table_route
    topic_route = routes.topic_route

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

    task = decorators.task
    timer = decorators.timer
    crontab = decorators.crontab
    service = decorators.service
    command = decorators.command
    main = decorators.main
    discover = decorators.discover
    autodiscover = decorators.autodiscover
    _wants_autodiscovery = decorators.wants_autodiscovery


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
