"""What the runtime asks of an app, as a Protocol, so no runtime module imports :mod:`strm.app`.

:class:`strm.App` builds the conductor, the runtime, the tables and the streams and hands itself
to each of them; each of them in turn calls back into the app. Annotating those calls with
``App`` made every runtime module import ``strm.app`` (under ``TYPE_CHECKING``), a circle through
the class at the top of the graph. :class:`AppLike` names only the members the modules below
``strm.app`` use, and ``App`` satisfies it structurally; ``tests/test_import_graph.py`` keeps it
that way. The names it refers to are imported for the type checker only: at run time this module
imports nothing of strm.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections import Counter

    from strm.agents.agent import Agent
    from strm.agents.replies import Replies
    from strm.agents.supervisors import Supervisor
    from strm.channels import Channel, Subscription, Topic
    from strm.codecs.registry import Serializers
    from strm.kernel.plugins.manager import StrmPluginManager
    from strm.kernel.records import Provision
    from strm.kernel.settings.conf import Conf
    from strm.kernel.spi import TP, Transport
    from strm.runtime.conductor import Conductor
    from strm.runtime.deadletters import DeadLetters
    from strm.runtime.producing import Producers
    from strm.runtime.runtime import Runtime
    from strm.runtime.sender import Partitioner, Sender
    from strm.runtime.table_manager import TableManager
    from strm.runtime.timers import BackgroundTasks
    from strm.sensors import SensorSet
    from strm.signals import Signal, SyncSignal
    from strm.streams import Stream
    from strm.web.server import Web

#: ``app.add_service(factory)``: called with the app, gives the context the service runs in.
ServiceFactory = Callable[["AppLike"], AbstractAsyncContextManager[Any]]


class AppLike(Protocol):
    """The part of :class:`strm.App` that agents, streams, tables, the conductor, the runtime,
    the producers and the worker use."""

    # -- configuration and plugins -------------------------------------------------------------

    @property
    def conf(self) -> Conf: ...

    @property
    def configured(self) -> bool: ...

    @property
    def plugins(self) -> StrmPluginManager: ...

    @property
    def serializers(self) -> Serializers: ...

    def configure(self) -> AppLike: ...

    def extension_class(self, setting: str) -> type: ...

    def resolve_backend(self, setting: str, url: str | None = None) -> Provision: ...

    def transport(self, setting: str = "broker") -> Transport: ...

    # -- the services the app owns -------------------------------------------------------------

    @property
    def conductor(self) -> Conductor: ...

    @property
    def runtime(self) -> Runtime: ...

    @property
    def tables(self) -> TableManager: ...

    @property
    def producers(self) -> Producers: ...

    @property
    def partitioner(self) -> Partitioner: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    @property
    def sensors(self) -> SensorSet: ...

    @property
    def web(self) -> Web: ...

    @property
    def agents(self) -> dict[str, Agent]: ...

    @property
    def service_factories(self) -> list[ServiceFactory]: ...

    @property
    def background(self) -> BackgroundTasks: ...

    @property
    def sent_counts(self) -> Counter[str]: ...

    def sent_by_topic(self) -> dict[str, int]: ...

    @property
    def rebalancing(self) -> bool: ...

    @property
    def http_client(self) -> Any: ...

    async def close_http_client(self) -> None: ...

    async def get_sender(self) -> Sender: ...

    async def get_soon_sender(self) -> Sender: ...

    async def get_replies(self) -> Replies: ...

    async def stop_replies(self) -> None: ...

    @property
    def exactly_once(self) -> bool: ...

    def is_leader(self) -> bool: ...

    def supervisor_for(self, agent: Agent) -> Supervisor: ...

    # -- channels and streams ------------------------------------------------------------------

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
    ) -> Topic: ...

    def channel(
        self,
        *,
        schema: Any = None,
        key_type: Any = None,
        value_type: Any = None,
        maxsize: int | None = None,
    ) -> Channel: ...

    def resolve_channel(self, channel: Channel | str) -> Channel: ...

    def stream(self, source: Channel | str | Iterable[Any] | AsyncIterable[Any]) -> Stream: ...

    def stream_over(self, subscription: Subscription, *, shared: bool = False) -> Stream: ...

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def on_before_shutdown(self) -> Signal[None]: ...

    @property
    def on_produce_message(self) -> SyncSignal[None]: ...

    @property
    def on_worker_init(self) -> SyncSignal[None]: ...

    async def notify_partitions_assigned(self, assigned: Iterable[TP]) -> None: ...

    async def notify_partitions_revoked(self, revoked: Iterable[TP]) -> None: ...

    def crash(self, error: BaseException) -> None: ...

    @property
    def crash_error(self) -> BaseException | None: ...

    async def wait_crashed(self) -> BaseException: ...

    @property
    def is_running(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
