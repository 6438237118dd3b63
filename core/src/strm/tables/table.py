"""Tables: ``app.Table('counts', default=int)`` — a dict sharded like the stream that updates it.

A table partition lives beside the stream partition that updates it: a write made while
processing an event of partition ``p`` goes to partition ``p`` of the table, whose changelog
topic (``<app id>-<table>-changelog``, compacted) has the same number of partitions as the
source topic. Each worker therefore holds, and recovers from the changelog, only the partitions
it consumes. Writes made outside a stream (``use_partitioner=True``) choose the partition from
the key with the producer's partitioner.
"""

from __future__ import annotations

import inspect
import struct
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from strm.agents.testing import is_test_event
from strm.events import stream_of_task
from strm.kernel.errors import CodecError, StrmError
from strm.schema import Schema
from strm.tables.ansitable import render_mapping
from strm.tables.arguments import RECOVERY_BUFFER_SIZE, check_table_arguments
from strm.tables.copartitioning import check_source
from strm.tables.shard import DELETED, MISSING, Shard
from strm.tables.standby_reads import standby_reads_allowed
from strm.tables.window_state import (
    MetaKey,
    WindowState,
)
from strm.tables.window_time import Seconds
from strm.tables.windows import (
    HoppingWindow,
    SessionWindow,
    SlidingWindow,
    TumblingWindow,
    Window,
    WindowKey,
    WindowWrapper,
)

if TYPE_CHECKING:
    from strm.channels import Topic
    from strm.kernel.app_protocol import AppLike
    from strm.kernel.spi import TP
    from strm.streams import Stream

#: Key types that are never window or bookkeeping keys: no isinstance checks for them.
_PLAIN_KEYS = frozenset({str, bytes, int})

RecoverCallback = Callable[[], Awaitable[None]]


class Collection(MutableMapping[Any, Any]):
    """What every table kind shares: shards, encoding, changelog, recovery callbacks."""

    #: Global tables keep every partition on every worker.
    is_global = False

    def __init__(
        self,
        app: AppLike,
        *,
        name: str,
        default: Callable[[], Any] | None = None,
        store: str | None = None,
        schema: Schema | None = None,
        partitions: int | None = None,
        key_type: Any = None,
        value_type: Any = None,
        changelog_topic: Topic | None = None,
        help: str | None = None,
        on_changelog_event: Callable[[Any], Awaitable[None]] | None = None,
        on_recover: RecoverCallback | None = None,
        recover_callbacks: Iterable[RecoverCallback] | None = None,
        use_partitioner: bool = False,
        options: Mapping[str, Any] | None = None,
        extra_topic_configs: Mapping[str, Any] | None = None,
        on_window_close: Callable[[Any, Any], Any] | None = None,
        recovery_buffer_size: int = RECOVERY_BUFFER_SIZE,
        standby_buffer_size: int | None = None,
        window: Window | None = None,
        is_global: bool | None = None,
    ) -> None:
        partitions = check_table_arguments(
            name,
            type(self),
            default=default,
            partitions=partitions,
            changelog_topic=changelog_topic,
            recovery_buffer_size=recovery_buffer_size,
            standby_buffer_size=standby_buffer_size,
            window=window,
            is_global=is_global,
        )
        self.app = app
        self.name = name
        self.default = default
        self.store_url = store
        self.key_type = key_type
        self.value_type = value_type
        self.help = help or ""
        self.on_changelog_event = on_changelog_event
        self.use_partitioner = use_partitioner
        self.options = dict(options or {})
        self.extra_topic_configs = dict(extra_topic_configs or {})
        self._recover_callbacks: list[RecoverCallback] = list(recover_callbacks or ())
        if on_recover is not None:
            self._recover_callbacks.append(on_recover)
        self.partitions = partitions or app.conf.topic_partitions
        self.schema = schema or Schema(
            key_type=key_type,
            value_type=value_type,
            key_serializer=None if key_type is bytes else "json",
            value_serializer=None if value_type is bytes else "json",
        )
        self.schema.check_codecs(app.serializers, f"table {name!r}")
        self._dump_key, self._dump_value = self.schema.bind_dumps(app.serializers)
        self._shards: dict[int, Shard] = {}
        self._changelog: Topic | None = changelog_topic
        #: The ``on_key_*`` methods when a subclass overrides them, else ``None``: the
        #: per-event path then pays one attribute read, not a call.
        self.key_get_hook = _override(self, "on_key_get")
        self.key_set_hook = _override(self, "on_key_set")
        self.key_del_hook = _override(self, "on_key_del")
        #: Key to partition of what reads outside a stream found (``table_key_index_size``
        #: entries, the oldest forgotten first: an OrderedDict forgets it in constant time).
        self._key_index: OrderedDict[Any, int] = OrderedDict()
        self._key_index_size: int = app.conf.table_key_index_size
        self.on_window_close = on_window_close
        #: Partitions this worker owns (not standbys), kept by the table manager on rebalances.
        self.owned_partitions: set[int] = set()
        #: Partitions a test context wrote to, with the app not running (agent.test_context).
        self._test_partitions: set[int] = set()
        #: The conductor's assignment (one set, changed in place on rebalances).
        self._assignment = app.conductor.assignment
        #: Topics seen updating this table whose partition count matches the table's.
        self._sources: set[str] = set()
        #: Per stream, the inbox batch its events come from and the shard they update: the
        #: checks of :meth:`_event_partition` hold for every event of one batch (one partition),
        #: so they run once per batch, and each access of the batch's other events goes
        #: straight to the shard. Emptied whenever a partition is closed.
        self._batch_shards: dict[Stream, tuple[TP, Shard]] = {}
        self.window_state: WindowState | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self._shards)} local partitions>"

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    # -- the changelog ---------------------------------------------------------------------------

    @property
    def changelog_topic_name(self) -> str:
        if self._changelog is not None:
            return self._changelog.get_topic_name()
        return f"{self.app.conf.id}-{self.name}-changelog"

    @property
    def changelog_topic(self) -> Topic:
        if self._changelog is None:
            self._changelog = self.app.topic(
                self.changelog_topic_name,
                schema=self.schema,
                partitions=self.partitions,
                compacting=True,
                deleting=False,
                internal=True,
                acks=False,
                config=self.extra_topic_configs,
            )
        return self._changelog

    def on_recover(self, fun: RecoverCallback) -> RecoverCallback:
        """Decorate an ``async def`` to run after each recovery of this table."""
        self._recover_callbacks.append(fun)
        return fun

    async def call_recover_callbacks(self) -> None:
        for callback in self._recover_callbacks:
            result = callback()
            if inspect.isawaitable(result):
                await result

    # -- encoding --------------------------------------------------------------------------------

    def use_window(self, wrapper: WindowWrapper) -> None:
        """Make this a windowed table: its keys are stored as :class:`WindowKey`."""
        if self.window_state is None:
            self.window_state = WindowState(self)
            self.window_state.wrapper = wrapper

    def dumps_key(self, key: Any) -> bytes:
        if key.__class__ not in _PLAIN_KEYS:
            if isinstance(key, WindowKey):
                return _WINDOW_RANGE.pack(key.start, key.end) + self.dumps_key(key.key)
            if isinstance(key, MetaKey):
                return _META_PREFIX + key.name.encode()
        raw = self._dump_key(key)
        if raw is None:
            raise StrmError(f"table {self.name!r}: None cannot be a key")
        return raw

    def dumps_value(self, value: Any) -> bytes | None:
        return self._dump_value(value)

    def loads_key(self, raw: bytes) -> Any:
        if self.window_state is not None:
            if raw.startswith(_META_PREFIX):
                return MetaKey(raw[len(_META_PREFIX) :].decode())
            start, end = _WINDOW_RANGE.unpack_from(raw)
            return WindowKey(self._loads_plain_key(raw[_WINDOW_RANGE.size :]), (start, end))
        return self._loads_plain_key(raw)

    def _stored_value(self, raw: bytes) -> Any:
        try:
            return self.loads_value(raw)
        except CodecError as exc:
            raise CodecError(
                f"table {self.name!r}: a value in its store cannot be decoded ({exc}); if the "
                "table's value_type changed, the store holds data of the old type: delete the "
                "store files to rebuild the table from its changelog"
            ) from exc

    def _loads_plain_key(self, raw: bytes) -> Any:
        return self.schema.loads_key(self.app.serializers, raw)

    def loads_value(self, raw: bytes) -> Any:
        return self.schema.loads_value(self.app.serializers, raw)

    # -- shards ----------------------------------------------------------------------------------

    def partition_for(self, key: Any, *, write: bool = False) -> int | None:
        """The partition a key lives in, ``None`` for a read of a key this worker has not got.

        While an event of a topic partition is processed, it is that partition (the table is
        co-partitioned with its stream). Outside a stream: the partition the key was last seen
        in, else the local partition that has it; a new key can only be placed by the producer's
        partitioner when the table is created with ``use_partitioner=True``. A worker writes
        only partitions it owns: another worker's would never learn of the change.
        """
        if key.__class__ not in _PLAIN_KEYS:
            if isinstance(key, WindowKey):
                key = key.key
            elif isinstance(key, MetaKey):
                raise StrmError("a windowed table's bookkeeping has no partition of its own")
        partition = self._event_partition(key)
        if partition is None:
            self._check_started()
            partition = self._locate(key, write)
        if partition is not None and not (self.is_global or partition in self.owned_partitions):
            if (
                not write
                and standby_reads_allowed()
                and self.app.tables.is_standby(self, partition)
            ):
                return partition  # a read that accepted a standby's staleness (standby_reads)
            raise StrmError(
                f"table {self.name!r}: key {key!r} is in partition {partition}, which another "
                "worker owns; a worker reads and writes only the partitions it consumes — send "
                "the update to a topic keyed like the table and apply it in an agent"
            )
        return partition

    def _event_partition(self, key: Any) -> int | None:
        """The partition of the topic record being processed, if any (an assigned partition,
        so the app is running); remembered for the rest of its inbox batch when this worker
        owns it."""
        if self.use_partitioner:
            return None
        stream = stream_of_task()
        event = None if stream is None else stream.current_event
        if event is None:
            return None
        message = event.message
        topic = message.topic
        partition = message.partition
        # A plain tuple hashes like the TP it stands for, without building one per call.
        if (topic, partition) not in self._assignment:
            if is_test_event(event):  # agent.test_context(): the table lives in the test
                self.owned_partitions.add(partition)
                self._test_partitions.add(partition)
                return partition
            return None
        if topic not in self._sources:
            self._check_source(topic, partition)
        batch = stream.batch_tp  # type: ignore[union-attr]
        if (
            batch is not None
            and batch.partition == partition
            and batch.topic == topic
            and partition in self.owned_partitions
            and self.window_state is None
        ):
            self._batch_shards[stream] = (batch, self.shard(partition))  # type: ignore[index]
        return partition

    def _check_source(self, topic: str, partition: int) -> None:
        if check_source(self, topic, partition):
            self._sources.add(topic)

    def _check_started(self) -> None:
        if not self.app.is_running and not self._test_partitions:
            raise StrmError(
                f"table {self.name!r} is used before its app started: a table is recovered "
                "from its changelog when the app starts (strm worker, or await app.start()), "
                "so use it in agents, tasks and timers, or after the start"
            )

    def _locate(self, key: Any, write: bool) -> int | None:
        """Outside a stream: the key index, the local caches, the local stores, then the
        partitioner. Streams never touch the index (a key they use is in its shard's cache),
        so keeping it costs the per-event path nothing."""
        if not self.use_partitioner:
            known = self._key_index.get(key)
            if known is not None:
                return known
            if self.window_state is None:  # a windowed table caches window keys
                for partition, shard in self._shards.items():
                    if key in shard.cache:
                        self._remember(key, partition)
                        return partition
            for partition, shard in self._shards.items():
                if self._holds(partition, shard, key):
                    self._remember(key, partition)
                    return partition
            if not write:
                return None
            raise StrmError(
                f"table {self.name!r} is co-partitioned with the stream that updates it, and "
                f"key {key!r} is new: outside a stream its partition is unknown. Write new keys "
                "while processing an event of that stream, or create the table with "
                "use_partitioner=True"
            )
        return self.app.tables.partition_of_key(self, self.dumps_key(key))

    def _holds(self, partition: int, shard: Shard, key: Any) -> bool:
        """Whether a local partition has ``key`` (a windowed table: any window of it)."""
        if self.window_state is not None:
            return self.window_state.holds(partition, key)
        return shard.get(key, self.dumps_key) is not MISSING

    def _remember(self, key: Any, partition: int) -> None:
        index = self._key_index
        if key not in index:
            if len(index) >= self._key_index_size:
                index.popitem(last=False)
            index[key] = partition

    def shard(self, partition: int) -> Shard:
        shard = self._shards.get(partition)
        if shard is None:
            store = self.app.tables.open_store(self, partition)
            shard = self._shards[partition] = Shard(
                partition, store, self.loads_key, self._stored_value
            )
        return shard

    def close_shards(self, partitions: set[int]) -> None:
        self._batch_shards.clear()
        if self.window_state is not None:
            self.window_state.forget_partitions(partitions)
        for partition in partitions:
            shard = self._shards.pop(partition, None)
            if shard is not None:
                shard.store.close()
        if partitions:
            self._key_index = OrderedDict(
                (k, p) for k, p in self._key_index.items() if p not in partitions
            )

    @property
    def local_partitions(self) -> list[int]:
        """The partitions this worker owns and has opened (standby copies are not counted:
        reading them would count their keys twice across the group)."""
        tables = self.app.tables
        return sorted(p for p in self._shards if self.is_global or tables.owns(self, p))

    def stored_size(self) -> tuple[int, int]:
        """``(keys, partitions)`` in the stores of the local partitions: the Monitor's table
        size, read from :meth:`strm.kernel.spi.Store.size` rather than by walking the keys (changes
        since the last checkpoint are not in it yet; a windowed table's few bookkeeping keys
        are)."""
        partitions = self.local_partitions
        return sum(self._shards[p].store.size() for p in partitions), len(partitions)

    # -- the mapping -----------------------------------------------------------------------------

    def on_key_get(self, key: Any) -> None:
        """Called before every read of a key; override it in a subclass to observe reads."""

    def on_key_set(self, key: Any, value: Any) -> None:
        """Called before every write of a key; override it in a subclass to observe writes."""

    def on_key_del(self, key: Any) -> None:
        """Called before every deletion of a key; override it in a subclass to observe them."""

    def _batch_shard(self) -> Shard | None:
        """The shard of the current stream's inbox batch, when an earlier event of the batch
        resolved it (:meth:`_event_partition`); ``None`` sends the access the long way."""
        stream = stream_of_task()
        if stream is None:
            return None
        known = self._batch_shards.get(stream)
        if known is None or known[0] is not stream.batch_tp:
            return None
        return known[1]

    def _get(self, key: Any) -> Any:
        shard = self._batch_shard()
        if shard is None:
            partition = self.partition_for(key)
            if partition is None:
                return MISSING
            shard = self.shard(partition)
        return shard.get(key, self.dumps_key)

    def _shard_to_write(self, key: Any) -> Shard:
        shard = self._batch_shard()
        if shard is not None:
            return shard
        partition = self.partition_for(key, write=True)
        assert partition is not None
        return self.shard(partition)

    # ``__getitem__`` and ``__setitem__`` repeat the batch-shard lookup inline: they are the
    # per-event path of ``table[key] += 1``, where each call saved is a measurable share.

    def __getitem__(self, key: Any) -> Any:
        hook = self.key_get_hook
        if hook is not None:
            hook(key)
        stream = stream_of_task()
        known = None if stream is None else self._batch_shards.get(stream)
        if known is not None and known[0] is stream.batch_tp:  # type: ignore[union-attr]
            shard = known[1]
            value = shard.cache.get(key, MISSING)
            if value is MISSING or value is DELETED:
                value = shard.get(key, self.dumps_key)
        else:
            value = self._get(key)
        if value is MISSING:
            if self.default is not None:
                return self.default()
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        if key is None:
            raise StrmError(f"table {self.name!r}: None cannot be a key")
        hook = self.key_set_hook
        if hook is not None:
            hook(key, value)
        stream = stream_of_task()
        known = None if stream is None else self._batch_shards.get(stream)
        if known is not None and known[0] is stream.batch_tp:  # type: ignore[union-attr]
            shard = known[1]
            shard.cache[key] = value
            shard.dirty.add(key)
        else:
            self._shard_to_write(key).set(key, value)

    def __delitem__(self, key: Any) -> None:
        hook = self.key_del_hook
        if hook is not None:
            hook(key)
        if self._get(key) is MISSING:
            raise KeyError(key)
        shard = self._shard_to_write(key)
        if shard.get(key, self.dumps_key) is MISSING:
            raise KeyError(key)
        shard.delete(key)

    def __contains__(self, key: object) -> bool:
        return self._get(key) is not MISSING

    def get(self, key: Any, default: Any = None) -> Any:
        hook = self.key_get_hook
        if hook is not None:
            hook(key)
        value = self._get(key)
        return default if value is MISSING else value

    def __iter__(self) -> Iterator[Any]:
        for _, key in self._local_keys():
            yield key

    def _local_keys(self) -> Iterator[tuple[Shard, Any]]:
        self._check_started()
        for partition in self.local_partitions:
            shard = self._shards[partition]
            for key in shard.keys(self.dumps_key):
                if not isinstance(key, MetaKey):
                    yield shard, key

    def __len__(self) -> int:
        return sum(1 for _ in self._local_keys())

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        """Every local ``(key, value)``, read partition by partition."""
        for shard, key in self._local_keys():
            value = shard.get(key, self.dumps_key)
            if value is not MISSING:
                yield key, value

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        for _, value in self.items():
            yield value

    def as_dict(self) -> dict[Any, Any]:
        return dict(self.items())

    def as_ansitable(self, title: str = "{table.name}", **kwargs: Any) -> str:
        """The local keys and values as a text table; ``title`` may use ``{table}``, and
        ``key=``, ``value=`` (column headings), ``sort=`` and ``sortkey=`` are taken too."""
        return render_mapping(self.items(), title=title.format(table=self), **kwargs)


class Table(Collection):
    """A key/value table: ``app.Table('counts', default=int)``.

    The windowing calls take Faust's ``key_index``: strm always indexes a windowed table's
    keys, so ``keys()``, ``items()`` and ``len()`` work whatever its value.
    """

    def tumbling(
        self,
        size: Seconds,
        expires: Seconds | None = None,
        key_index: bool = False,
        **kwargs: Any,
    ) -> WindowWrapper:
        """Fixed, non-overlapping windows of ``size`` (``grace=`` too)."""
        window = TumblingWindow(size, expires, grace=kwargs.pop("grace", 0.0))
        return self.using_window(window, key_index=key_index, **kwargs)

    def hopping(
        self,
        size: Seconds,
        step: Seconds,
        expires: Seconds | None = None,
        key_index: bool = False,
        **kwargs: Any,
    ) -> WindowWrapper:
        """Overlapping windows of ``size``, one starting every ``step``."""
        window = HoppingWindow(size, step, expires, grace=kwargs.pop("grace", 0.0))
        return self.using_window(window, key_index=key_index, **kwargs)

    def sliding(
        self,
        before: Seconds,
        after: Seconds = 0.0,
        expires: Seconds | None = None,
        **kwargs: Any,
    ) -> WindowWrapper:
        """For each time ``t``, the events in ``[t - before, t + after]``."""
        window = SlidingWindow(before, after, expires, grace=kwargs.pop("grace", 0.0))
        return self.using_window(window, **kwargs)

    def session(self, gap: Seconds, expires: Seconds | None = None, **kwargs: Any) -> WindowWrapper:
        """Per key, events less than ``gap`` apart form one session."""
        window = SessionWindow(gap, expires, grace=kwargs.pop("grace", 0.0))
        return self.using_window(window, **kwargs)

    def using_window(
        self, window: Window, *, key_index: bool = False, **kwargs: Any
    ) -> WindowWrapper:
        """Window this table with a window made beforehand, ``TumblingWindow(60)`` say
        (``relative_to=`` and ``late_events=`` too)."""
        if not isinstance(window, Window):
            raise StrmError(
                f"table {self.name!r}: using_window() takes a strm window (TumblingWindow, "
                f"HoppingWindow, SlidingWindow, SessionWindow), not {window!r}"
            )
        if self.window_state is not None:
            raise StrmError(f"table {self.name!r} is already windowed")
        return WindowWrapper(self, window, **kwargs)


def _override(table: Collection, name: str) -> Any:
    """``table``'s method ``name`` if its class overrides :class:`Collection`'s, else None."""
    if getattr(type(table), name) is getattr(Collection, name):
        return None
    return getattr(table, name)


_WINDOW_RANGE = struct.Struct(">dd")
#: Raw keys of a windowed table's bookkeeping; no window range starts with these bytes.
_META_PREFIX = b"\x00strm-window-meta:"
