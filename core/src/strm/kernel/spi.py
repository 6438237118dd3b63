"""The small interfaces plugins implement or receive.

Backends stay behind these protocols: no third-party client type (aiokafka, rocksdict, redis)
crosses them, so the kernel's serialisation, changelog and recovery code serves every backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable


class TP(NamedTuple):
    """A topic partition."""

    topic: str
    partition: int


@runtime_checkable
class Codec(Protocol):
    """Turns an object into bytes and back; composed left to right with ``|``."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


@runtime_checkable
class Store(Protocol):
    """A table partition's storage: bytes keys to bytes values.

    **Opening.** strm builds one store per table partition as ``factory(url=..., context=...)``, the
    context a :class:`strm.kernel.contexts.StoreContext` naming the table, the partition and its
    options (accept ``**kwargs`` you do not use: a later strm may pass more). A store that keeps
    files puts them under ``context.tabledir`` (``datadir/v<version>/<tabledir>``; each app version
    has its own), one set per table partition named after the table and the partition, or under a
    directory its URL names, and nowhere else. The same table partition may be closed and opened
    again in one process (a rebalance takes it away and gives it back).

    **Threads.** strm calls :meth:`write_batch` through :func:`asyncio.to_thread`: on a worker
    thread of the event loop's default executor, not the thread that opened the store, and not
    always the same one. Every other method, the factory and :meth:`close` included, runs on the
    event loop's thread, and reads (:meth:`get`, :meth:`contains`, :meth:`items`, :meth:`size`)
    may run there *while* a :meth:`write_batch` is running: a store must not bind a connection
    or handle to the thread that opened it (sqlite3's default ``check_same_thread=True`` does)
    and must keep its own state consistent across threads (a lock, or a backend that is
    thread-safe). strm never runs two :meth:`write_batch` calls on one store at once.

    **Applied offsets.** :meth:`applied_offset` is the offset of the *last* changelog record
    (or, for a source topic partition, the last source record) whose effect the store holds,
    ``None`` when it holds none; strm resumes reading at ``applied_offset + 1``. They live in
    the store, beside the data, so :meth:`write_batch` can record them atomically with it
    where the backend allows: after a crash the data and the offsets it claims must agree.
    :meth:`clear` forgets them too (a cleared store is rebuilt from the start).

    **Errors.** Raise :class:`strm.StoreError` (whose message names the table, the partition
    and what to do) for a failure of the store; :class:`strm.StoreLockedError` when its files
    are in use by another process (another worker on the same ``datadir``), and
    :class:`strm.StoreCorruptError` when its files cannot be read (deleting them lets strm
    rebuild the table from its changelog). Anything else the factory raises, strm wraps in a
    :class:`strm.StoreError` naming the table partition; anything else a method raises reaches
    strm as it is, so a store's own errors should name the table and partition too.

    **Shutdown.** A partition's store is closed when it is revoked or the worker stops, after
    the final checkpoint's :meth:`write_batch` has returned; nothing but :meth:`close` is called
    after :meth:`close`, and a second :meth:`close` must be harmless.
    """

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def contains(self, key: bytes) -> bool: ...

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair; strm may iterate it on the event loop's thread while a
        :meth:`write_batch` runs, so iterate a snapshot (or a backend iterator that tolerates
        writes), not a live dict."""
        ...

    def size(self) -> int: ...

    def clear(self) -> None:
        """Remove every key and every applied offset."""
        ...

    def write_batch(
        self, puts: Mapping[bytes, bytes | None], applied: Mapping[TP, int] | None = None
    ) -> None:
        """Apply many writes at once (a ``None`` value deletes the key) and record ``applied``
        changelog offsets with them, atomically where the backend can: after a crash the data
        and the offsets it claims to contain must agree. Called on a worker thread (see the
        class's threading rules)."""
        ...

    def applied_offset(self, tp: TP) -> int | None:
        """The offset of the last record of ``tp`` applied to this store, ``None`` if none."""
        ...

    def set_applied_offset(self, tp: TP, offset: int) -> None: ...

    def close(self) -> None:
        """Release the store's files or connections; called on the event loop's thread after
        the last :meth:`write_batch` has returned, and harmless twice."""
        ...


class CacheUnavailable(Exception):
    """Raised by a cache backend whose server cannot be reached (refused, timed out, down).

    Only this error means "try again later": ``app.cache`` turns it into a miss and one warning
    per outage, so a cache going away slows callers down instead of failing them. A backend
    raises it in place of its client library's connection errors, which must not cross the SPI.
    """


@runtime_checkable
class Cache(Protocol):
    """A key-value cache with expiry, used by web views and by users through ``app.cache``.

    ``timeout`` is in seconds (fractions allowed); ``None`` keeps the value until it is
    replaced or deleted, and a value set again without a timeout loses its old one. A backend
    that cannot reach its server raises :class:`CacheUnavailable`. A backend holding
    connections may also have ``async def close()``, which the app awaits when it stops.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, timeout: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...


# -- transports ---------------------------------------------------------------------------------

Headers = Sequence[tuple[str, bytes]]


@dataclass(slots=True)
class Message:
    """A record as read from a topic partition: raw bytes, not yet decoded.

    ``timestamp`` is in seconds since the epoch. Decoding happens in the kernel, lazily, only for
    the streams that read the record.
    """

    topic: str
    partition: int
    offset: int
    timestamp: float
    key: bytes | None
    value: bytes | None
    headers: Headers = ()

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where a produced record landed."""

    topic: str
    partition: int
    offset: int
    timestamp: float

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


@dataclass(slots=True)
class ProducerRecord:
    """A record to produce; the kernel has already chosen its partition."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None
    headers: Headers = ()


class RebalanceListener(Protocol):
    """What a consumer calls when its assignment changes (the kernel implements it).

    ``on_partitions_revoked`` is awaited before the partitions go to another member: the
    kernel stops reading them, finishes or abandons events in flight and commits.
    """

    async def on_partitions_revoked(self, revoked: set[TP]) -> None: ...

    async def on_partitions_assigned(self, assigned: set[TP]) -> None: ...


@runtime_checkable
class Consumer(Protocol):
    """A group member reading topic partitions in batches.

    Offsets given to :meth:`commit` and returned by :meth:`committed` and :meth:`end_offsets`
    are *next* offsets to read (one past the last processed record), as Kafka's are.
    """

    async def start(self) -> None:
        """Connect; when subscribed, join the group and return once the listener's
        ``on_partitions_assigned`` for the first assignment has returned (the app's start
        relies on it: tables begin their recovery there)."""
        ...

    async def stop(self) -> None: ...

    def subscribe(
        self, topics: Collection[str], listener: RebalanceListener, pattern: str | None = None
    ) -> None:
        """Read these topics and, with ``pattern`` (a Python regex matched against the whole
        name), every topic it matches, including topics created later."""
        ...

    async def getmany(
        self, timeout: float, max_records: int | None = None
    ) -> Mapping[TP, Sequence[Message]]:
        """The records fetched since the last call, by partition, waiting at most ``timeout``
        seconds when none are ready. Paused partitions are not returned.

        ``max_records`` (at least 1) bounds the records of the whole call, not of each
        partition: the kernel passes what its stream buffers have room for. The bound is shared
        among the partitions that have records ready, so that one partition's backlog cannot
        fill it, and a partition left out (a bound smaller than the partitions with records)
        is among the first served by the next call: every partition with records makes
        progress. ``None``: the transport's own limit (``broker_max_poll_records`` where it has
        one)."""
        ...

    def pause(self, tps: Iterable[TP]) -> None: ...

    def resume(self, tps: Iterable[TP]) -> None: ...

    def assignment(self) -> set[TP]: ...

    def standbys(self) -> set[TP]:
        """The assigned partitions held only as standby copies: changelog partitions of tables
        whose active partition another member owns (a subset of :meth:`assignment`)."""
        ...

    def seek(self, tp: TP, offset: int) -> None: ...

    async def position(self, tp: TP) -> int:
        """The offset of the next record the consumer will return for ``tp`` (past gaps such
        as transaction markers, which is why recovery asks this rather than counting)."""
        ...

    async def commit(self, offsets: Mapping[TP, int]) -> None: ...

    async def committed(self, tp: TP) -> int | None: ...

    async def end_offsets(self, tps: Iterable[TP]) -> dict[TP, int]: ...

    async def beginning_offsets(self, tps: Iterable[TP]) -> dict[TP, int]: ...


@runtime_checkable
class HighwaterConsumer(Protocol):
    """A consumer that knows its partitions' end offsets without asking the broker: the
    optional method the Monitor's lag figures read (:func:`strm.runtime.gauges.read_gauges`)
    each time a snapshot is taken, so it must not do I/O. Kafka clients learn the highwater
    mark from every fetch response; an in-memory log knows its length. A transport that cannot
    answer without a request leaves the method out, and its lag is reported as unknown."""

    def highwater(self, tp: TP) -> int | None:
        """The end offset of ``tp`` (the offset the next record written will get) as last
        learned, ``None`` when not learned yet (no fetch answered for it)."""
        ...


@runtime_checkable
class Producer(Protocol):
    """Sends records; :meth:`send` returns once the record is queued, with an awaitable that
    completes when the broker has it. :meth:`flush` waits for everything queued so far."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, record: ProducerRecord) -> Awaitable[RecordMetadata]: ...

    async def flush(self) -> None: ...

    async def partitions_for(self, topic: str) -> int:
        """The number of partitions of a topic (creating it as the broker would, if it
        creates topics on first use)."""
        ...


@runtime_checkable
class BatchProducer(Producer, Protocol):
    """A producer that queues many records of one partition in one call: what a checkpoint
    uses for a table partition's changelog records. Optional: the kernel sends record by
    record through :meth:`Producer.send` when a producer has no ``send_batch``. A transport
    gains from it when its client can build one record batch at once (one delivery to track
    and one compression run per batch, not a future and a call chain per record)."""

    async def send_batch(
        self, topic: str, partition: int, records: Sequence[tuple[bytes | None, bytes | None]]
    ) -> Awaitable[RecordMetadata]:
        """Queue ``records`` (key, value), in order, for ``topic[partition]``, stamped with the
        current time and without headers; the result completes when the broker has all of
        them, with the metadata of the last. Inside a transaction they join it."""
        ...


@runtime_checkable
class TransactionalProducer(Producer, Protocol):
    """A producer that can make its records and a group's source offsets visible together, or
    not at all: what ``processing_guarantee='exactly_once'`` needs. Transports that cannot
    return a plain :class:`Producer`, and the kernel refuses exactly-once with them."""

    async def begin_transaction(self) -> None: ...

    async def commit_transaction(self, offsets: Mapping[TP, int], group_id: str) -> None:
        """Commit the records sent since :meth:`begin_transaction` together with ``offsets``
        as the group's committed offsets."""
        ...

    async def abort_transaction(self) -> None: ...


@dataclass(frozen=True)
class TopicSpec:
    """A topic strm wants to exist, with the configuration it is created with."""

    name: str
    partitions: int
    replication_factor: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Admin(Protocol):
    async def create_topic(self, spec: TopicSpec) -> bool:
        """Create the topic if it does not exist; ``True`` if it was created now."""
        ...

    async def partition_count(self, topic: str) -> int | None:
        """Partitions of an existing topic, ``None`` when it does not exist."""
        ...

    async def creates_topics_on_use(self) -> bool:
        """Whether subscribing to or producing to a missing topic creates it (Kafka's
        ``auto.create.topics.enable``); when not, a missing source topic is a start-up error."""
        ...


@runtime_checkable
class Transport(Protocol):
    """What a transport plugin's factory returns: ``factory(context=..., urls=[...])``, the
    context a :class:`strm.kernel.contexts.TransportContext`.

    A transport whose producers may be started and used on an event loop of another thread
    says so with a class attribute ``producer_runs_in_thread = True``; only then does
    ``producer_threaded=True`` run a producer of it on a thread of its own.
    """

    def create_consumer(self, *, group_id: str, client_id: str) -> Consumer: ...

    def create_producer(self, *, client_id: str, transactional_id: str | None = None) -> Producer:
        """A producer; with ``transactional_id``, a :class:`TransactionalProducer` fenced by
        that id (a restarted worker with the same id aborts what its predecessor left open)."""
        ...

    def create_admin(self) -> Admin: ...
