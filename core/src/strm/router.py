"""The ``Router`` extension class (``app.router``): which worker holds a table key or a topic
key, and sending an HTTP request there.

A table partition lives on one worker of the group, so a web request about a key can only be
answered by that worker. Every worker knows the group's whole plan by URL (the transports hand
it to every member with its assignment, :class:`strm.kernel.assignor.ClusterMap`); the router
computes the key's partition as the producer would (the ``producer_partitioner`` on the serialized
key)
and looks the partition's owner up there. ``@app.table_route`` and ``@app.topic_route``
(:mod:`strm.web.routing`) use it to serve a request here or forward it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from strm.channels import Topic
from strm.kernel.assignor import ClusterMap, HostToPartitionMap, SharesClusterMap
from strm.kernel.errors import StrmError
from strm.kernel.spi import TP
from strm.web.http import Response

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.tables.table import Collection
    from strm.web.http import Request

logger = logging.getLogger(__name__)

#: The header a forwarded request carries: the URL of the worker that forwarded it. A worker
#: never forwards a request that has it, so a request is forwarded at most once.
FORWARDED_HEADER = "X-Strm-Forwarded-By"
#: What a 503 asks the client to wait before trying again, in seconds: about one rebalance.
RETRY_AFTER = 1
#: How long a forwarded request may take, in seconds, before the client gets a 503.
FORWARD_TIMEOUT = 30.0
#: Request headers not passed on when forwarding: they describe this hop's connection (and
#: the client sets Host and Content-Length for the next one).
_HOP_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: Response headers of the owner's answer passed back to the client.
_ANSWER_HEADERS = ("Retry-After", "Cache-Control", "ETag", "Last-Modified", "Location")


class SameNode(StrmError):
    """The key is held by this worker: serve the request here (Faust's ``SameNode``).
    ``standby`` when it is a standby copy the route accepted (``standby_ok=True``)."""

    def __init__(self, url: str, *, standby: bool = False) -> None:
        super().__init__(url)
        self.standby = standby


class RouteUnavailable(KeyError):
    """Where a key lives is not known now: no assignment yet, a rebalance, or no worker with
    a web server holds its partition. A ``KeyError``, as Faust's router raises. The web
    views answer it with 503 and ``Retry-After``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class Router:
    """Finds the worker (by its ``canonical_url``) that holds a key, and forwards requests."""

    def __init__(self, app: AppLike) -> None:
        self.app = app

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app!r}>"

    # -- Faust's lookups ---------------------------------------------------------------------

    def key_store(self, table_name: str, key: Any) -> str:
        """The URL of the worker holding ``key`` of table ``table_name``."""
        table = self._table(table_name)
        cluster = self.cluster()
        return self._owner(cluster, self.table_key_partition(table, key, cluster))

    def external_topic_key_store(self, topic: Topic | str, key: Any) -> str:
        """The URL of the worker consuming the partition of ``topic`` that ``key`` goes to."""
        cluster = self.cluster()
        return self._owner(cluster, self.topic_key_partition(topic, key, cluster))

    def table_metadata(self, table_name: str) -> HostToPartitionMap:
        """``{url: {changelog topic: [partition, ...]}}`` for one table."""
        table = self._table(table_name)
        return self.cluster().host_map([table.changelog_topic_name])

    def tables_metadata(self) -> HostToPartitionMap:
        """``{url: {changelog topic: [partition, ...]}}`` for every table of the group."""
        cluster = self.cluster()
        return cluster.host_map(cluster.changelogs)

    def external_topics_metadata(self) -> HostToPartitionMap:
        """``{url: {topic: [partition, ...]}}`` for the topics that are not changelogs."""
        cluster = self.cluster()
        return cluster.host_map(set(cluster.partitions) - cluster.changelogs)

    def standbys_metadata(self) -> HostToPartitionMap:
        """``{url: {changelog topic: [partition, ...]}}`` of the standby copies."""
        cluster = self.cluster()
        return cluster.host_map(cluster.changelogs, standby=True)

    # -- partitions --------------------------------------------------------------------------

    def cluster(self) -> ClusterMap:
        """The group's current map; :class:`RouteUnavailable` while it is not known."""
        if self.app.rebalancing:
            raise RouteUnavailable("the group is rebalancing")
        consumer = self.app.conductor.consumer
        if consumer is None:
            raise RouteUnavailable("the app is not running")
        if not isinstance(consumer, SharesClusterMap):
            raise RouteUnavailable(
                f"the transport's consumer ({type(consumer).__name__}) does not share the "
                "group's assignment, so the worker holding a key is unknown"
            )
        cluster = consumer.cluster_map()
        if cluster is None:
            raise RouteUnavailable("no partitions are assigned yet")
        return cluster

    def table_key_partition(
        self, table: Collection, key: Any, cluster: ClusterMap | None = None
    ) -> TP:
        """The changelog partition ``key`` of ``table`` lives in."""
        if table.is_global:
            raise StrmError(
                f"table {table.name!r} is global: every worker holds all of it, so a request "
                "for one of its keys is never routed; read it where the request arrives"
            )
        name = table.changelog_topic_name
        raw = table.dumps_key(key)
        return TP(name, self._partition(name, raw, table.partitions, cluster))

    def topic_key_partition(
        self, topic: Topic | str, key: Any, cluster: ClusterMap | None = None
    ) -> TP:
        """The partition of ``topic`` the producer sends ``key`` to."""
        if isinstance(topic, str):
            topic = self.app.topic(topic)
        name = topic.get_topic_name()
        raw = topic.schema.dumps_key(self.app.serializers, key)
        return TP(name, self._partition(name, raw, topic.partitions, cluster))

    def _partition(
        self, topic: str, raw: bytes | None, declared: int | None, cluster: ClusterMap | None
    ) -> int:
        count = cluster.partitions.get(topic) if cluster is not None else None
        if count is None:
            count = declared
        if count is None:
            raise RouteUnavailable(f"the partition count of topic {topic!r} is not known")
        partitions = list(range(count))
        return self.app.partitioner(raw, partitions, partitions)

    def _owner(self, cluster: ClusterMap, tp: TP) -> str:
        owner = cluster.owner(tp)
        if owner is None:
            if tp.topic not in cluster.partitions:
                raise RouteUnavailable(f"topic {tp.topic!r} is not assigned in this app's group")
            raise RouteUnavailable(f"no worker with a web server holds {tp.topic}[{tp.partition}]")
        return owner

    def _table(self, name: str) -> Collection:
        table = self.app.tables.tables.get(name)
        if table is None:
            raise KeyError(name)
        return table

    # -- this worker -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL this worker advertises."""
        return str(self.app.conf.canonical_url)

    def is_local(self, url: str) -> bool:
        """Whether ``url`` names this worker (scheme, host and port compared)."""
        return _ident(url) == _ident(self.url)

    def holds(self, tp: TP) -> bool:
        """Whether this worker holds ``tp`` actively now."""
        consumer = self.app.conductor.consumer
        if consumer is None:
            return False
        return tp in consumer.assignment() and tp not in consumer.standbys()

    # -- forwarding --------------------------------------------------------------------------

    async def route_req(
        self,
        table_name: str,
        key: Any,
        web: Any,
        request: Request,
        *,
        standby_ok: bool = False,
    ) -> Response:
        """Forward ``request`` to the worker holding ``key`` of the table and return its
        answer; :class:`SameNode` when that is this worker, or, with ``standby_ok``, when
        this worker keeps a standby copy of the key's partition (even during a rebalance)."""
        table = self._table(table_name)
        if standby_ok and self.holds_standby(table, self.table_key_partition(table, key)):
            raise SameNode(self.url, standby=True)
        cluster = self.cluster()
        return await self._route(cluster, self.table_key_partition(table, key, cluster), request)

    def holds_standby(self, table: Collection, tp: TP) -> bool:
        """Whether this worker keeps a standby copy of ``table``'s changelog partition ``tp``
        now: the table manager's view, which a revocation updates at once (the consumer's
        assignment still names the partition until the rebalance ends)."""
        return self.app.tables.is_standby(table, tp.partition)

    async def route_topic_req(
        self, topic: Topic | str, key: Any, web: Any, request: Request
    ) -> Response:
        """Forward ``request`` to the worker consuming ``key``'s partition of ``topic``;
        :class:`SameNode` when that is this worker."""
        cluster = self.cluster()
        return await self._route(cluster, self.topic_key_partition(topic, key, cluster), request)

    async def _route(self, cluster: ClusterMap, tp: TP, request: Request) -> Response:
        owner = self._owner(cluster, tp)
        if self.is_local(owner):
            if not self.holds(tp):
                raise RouteUnavailable(
                    f"{tp.topic}[{tp.partition}] belongs to {owner}, this worker's URL, but "
                    "another worker holds it: more than one worker advertises that URL (give "
                    "each its own canonical_url or web_port)"
                )
            raise SameNode(owner)
        forwarded_by = request.headers.get(FORWARDED_HEADER)
        if forwarded_by is not None:
            # The worker that sent it here thought this one held the key: one of the two
            # has an outdated map. Forwarding again could bounce it between them.
            raise RouteUnavailable(
                f"{tp.topic}[{tp.partition}] is held by {owner}, not by this worker, which "
                f"{forwarded_by} forwarded the request to: the assignment changed meanwhile"
            )
        return await self.forward(owner, request)

    async def forward(self, owner: str, request: Request) -> Response:
        """Send ``request`` to the worker at ``owner`` and return its answer; 503 with
        ``Retry-After`` if that worker cannot be reached in :data:`FORWARD_TIMEOUT`."""
        target = _origin(owner) + request.raw_path
        headers = [(k, v) for k, v in _pairs(request.headers) if k.lower() not in _HOP_HEADERS]
        headers.append((FORWARDED_HEADER, self.url))
        body = await request.read()
        client = self.app.http_client
        try:
            async with asyncio.timeout(FORWARD_TIMEOUT):
                async with client.request(
                    request.method,
                    target,
                    headers=headers,
                    data=body or None,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    status = int(answer.status)
                    answer_headers = answer.headers
                    content_type = answer.content_type
                    charset = answer.charset
        except Exception as exc:
            # A refused connection, a timeout, a dropped answer (the HTTP client's own errors
            # are not the kernel's to name): the owner may be dying before the group notices.
            logger.warning("forwarding %s %s to %s failed: %r", request.method, target, owner, exc)
            raise RouteUnavailable(f"the worker at {owner} holding the key did not answer") from exc
        kept = {name: answer_headers[name] for name in _ANSWER_HEADERS if name in answer_headers}
        return Response(
            status=status,
            body=content,
            headers=kept,
            content_type=content_type or "application/octet-stream",
            charset=charset,
        )


def _pairs(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    items_all = getattr(headers, "items_all", None)
    if callable(items_all):
        pairs: list[tuple[str, str]] = items_all()
        return pairs
    return list(headers.items())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme or 'http'}://{parts.netloc}"


def _ident(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()
    default = 443 if scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = default
    return scheme, (parts.hostname or "").lower(), port


__all__ = [
    "FORWARDED_HEADER",
    "RETRY_AFTER",
    "RouteUnavailable",
    "Router",
    "SameNode",
]
