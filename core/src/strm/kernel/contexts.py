"""What a backend's factory receives instead of the app: a context narrowed to what it needs.

A store, cache, transport or web driver that took the whole :class:`strm.App` depended on all
of it, and testing it needed a whole app. A factory receives one of these protocols instead, as
``context=``: the kernel builds one over its app (:mod:`strm.runtime.backend_contexts`), a test
builds one without an app (:mod:`strm.testing.contexts`). This module imports nothing of the
app's, so a plugin that needs only these names stays on the lowest floor with
:mod:`strm.kernel.spi`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from strm.kernel.assignor import PartitionAssignor
    from strm.web.http import Request, Response


class SettingsView(Protocol):
    """The app's settings, read as attributes (``conf.tabledir``); a backend reads them and
    never changes them. Settings a plugin declares (``strm_settings``) are there too."""

    def __getattr__(self, name: str) -> Any: ...


@runtime_checkable
class BackendContext(Protocol):
    """What every backend may know of the app that uses it."""

    @property
    def app_id(self) -> str:
        """The app's ``id`` setting (a name for logs, sets or key prefixes)."""
        ...

    @property
    def conf(self) -> SettingsView:
        """The app's settings, read-only."""
        ...

    @property
    def scope(self) -> object:
        """One object per app, the same in every context of that app and alive as long as it:
        a backend that shares a client among its instances keys the client by it (weakly, so
        an app that goes away takes its clients with it)."""
        ...


@runtime_checkable
class StoreContext(BackendContext, Protocol):
    """What a table store's factory receives: ``factory(url=..., context=...)``.

    The store keeps its files under :attr:`tabledir`, one set per table partition named after
    :attr:`table_name` and :attr:`partition`, or under a directory its URL names. The factory
    and every method but ``write_batch`` run on the event loop's thread; ``write_batch`` runs on
    a worker thread (see :class:`strm.kernel.spi.Store`).
    """

    @property
    def tabledir(self) -> Path:
        """Where this app version's table stores keep their files."""
        ...

    @property
    def table_name(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def options(self) -> Mapping[str, Any]:
        """The table's ``options=`` (backend-specific; unknown keys are the store's to refuse)."""
        ...

    def crash(self, error: BaseException) -> None:
        """Stop the app with ``error``: for a failure the store cannot report by raising (a
        background flush), or one its settings say must not be survived."""
        ...


@runtime_checkable
class CacheContext(BackendContext, Protocol):
    """What a cache backend's factory receives: ``factory(url=..., context=...)``."""


@runtime_checkable
class TransportContext(BackendContext, Protocol):
    """What a transport's factory receives: ``factory(context=..., urls=[...])``.

    Besides the settings (``conf.topic_partitions``, the ``broker_*`` and ``consumer_*`` ones),
    a transport whose consumers join a group asks it, at each rebalance, for what the group's
    plan needs; each is a call because the app's tables and web server may change until the
    worker starts.
    """

    def assignor(self) -> PartitionAssignor:
        """A new partition assignor of the app's (the ``PartitionAssignor`` setting), for an
        assignment this member leads."""
        ...

    def changelog_topics(self) -> set[str]:
        """The changelog topics of the app's tables, which get standby copies."""
        ...

    def advertised_url(self) -> str:
        """The URL this worker's web server is reached at, sent to the group's leader (empty
        while the web server is off)."""
        ...


@runtime_checkable
class WebContext(BackendContext, Protocol):
    """What a web driver's factory receives: ``factory(context=...)``; a web transport's
    (``web_transport``: ``tcp://``, ``unix://``) receives the same, as
    ``factory(runner=..., context=..., url=...)``.

    The driver listens where :meth:`listener_factory`'s listener says and sends every request,
    as a :class:`strm.web.Request`, to :meth:`handle`: routing, CORS, error responses and the
    operator endpoints stay the kernel's.
    """

    async def handle(self, request: Request) -> Response:
        """The app's response to one request."""
        ...

    def listener_factory(self) -> Callable[..., Any]:
        """The factory of the web transport the ``web_transport`` setting's scheme picks."""
        ...
