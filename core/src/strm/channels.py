"""Channels and topics: where streams read from and what agents and users send to.

A :class:`Channel` is in-memory: sending puts the event into every reading stream's inbox.
A :class:`Topic` names one or more broker topics: sending encodes and produces; reading goes
through the app's conductor, which delivers fetched batches to the topic's subscriptions.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strm.events import Event, current_event
from strm.kernel.errors import ConfigurationError
from strm.kernel.source_positions import SourcePositions
from strm.kernel.spi import Headers, Message, RecordMetadata, TopicSpec
from strm.runtime.inbox import Inbox
from strm.runtime.progress import Progress
from strm.runtime.sender import normalize_headers
from strm.schema import Schema

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike
    from strm.streams import Stream

MakeEvent = Callable[[Message], Event]


@dataclass(eq=False)
class Subscription:
    """One reader of a channel or topic: its inbox, its progress and how it decodes."""

    channel: Channel
    inbox: Inbox
    progress: Progress
    make_event: MakeEvent | None
    readers: list[Stream] = field(default_factory=list)
    #: Only this partition of the topic (agents with ``isolated_partitions=True``).
    partition: int | None = None
    #: For a repartition topic: the source positions of the records processed, to skip copies.
    source_positions: SourcePositions | None = None


def _completed(metadata: RecordMetadata) -> asyncio.Future[RecordMetadata]:
    future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
    future.set_result(metadata)
    return future


class Channel:
    """An in-memory channel: ``app.channel()``. Every stream reading it receives every event."""

    #: Topics may subscribe by regular expression; a channel never does.
    pattern: str | None = None

    def __init__(
        self,
        app: AppLike,
        *,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        maxsize: int | None = None,
    ) -> None:
        self.app = app
        self.schema = _schema(app, schema, key_type, value_type, None, None, False)
        self.maxsize = maxsize
        self.subscriptions: list[Subscription] = []
        self._offsets = itertools.count()

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        """``Channel[Order]`` in annotations, as Faust's channels allow."""
        return types.GenericAlias(cls, item)

    @property
    def label(self) -> str:
        return f"channel-{id(self):x}"

    def get_topic_name(self) -> str:
        raise NotImplementedError(f"{self!r} is an in-memory channel: it has no topic name")

    def derive(self, **overrides: Any) -> Channel:
        """Faust's derived channel: an in-memory channel is its own derivation (``group_by``
        re-keys its events in place instead of repartitioning them)."""
        return self

    async def maybe_declare(self) -> None:
        """Nothing to create on a broker: the channel lives in this process."""

    async def declare(self) -> None:
        """Nothing to create on a broker: the channel lives in this process."""

    def new_subscription(self, *, shared_progress: Progress | None = None) -> Subscription:
        """A new reader; events sent from now on reach it."""
        maxsize = self.maxsize or self.app.conf.stream_buffer_maxsize
        sub = Subscription(self, Inbox(maxsize), shared_progress or Progress(), None)
        self.subscriptions.append(sub)
        return sub

    def remove_subscription(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    def stream(self, **kwargs: Any) -> Stream:
        """A stream over this channel."""
        return self.app.stream(self, **kwargs)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.stream().events()

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Awaitable[RecordMetadata]:
        """Deliver an event with this key and value to every stream reading the channel."""
        return _completed(self._deliver(key, value, partition, timestamp, headers))

    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        eager_partitioning: bool = False,
    ) -> asyncio.Future[RecordMetadata]:
        """:meth:`send` from synchronous code: an in-memory channel delivers at once."""
        return _completed(self._deliver(key, value, partition, timestamp, headers))

    def _deliver(
        self,
        key: Any,
        value: Any,
        partition: int | None,
        timestamp: float | None,
        headers: Mapping[str, Any] | Headers | None,
    ) -> RecordMetadata:
        offset = next(self._offsets)
        stamp = time.time() if timestamp is None else timestamp
        message = Message(
            self.label, partition or 0, offset, stamp, None, None, normalize_headers(headers)
        )
        for sub in self.subscriptions:
            sub.inbox.put(None, (Event(self.app, key, value, message, None),))
        return RecordMetadata(self.label, partition or 0, offset, stamp)

    async def send_raw(
        self,
        *,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
    ) -> Awaitable[RecordMetadata]:
        """Deliver raw bytes, decoded by this channel's schema."""
        serializers = self.app.serializers
        return await self.send(
            key=self.schema.loads_key(serializers, key),
            value=self.schema.loads_value(serializers, value),
            partition=partition,
            timestamp=timestamp,
            headers=headers,
        )

    async def put(self, event: Event) -> None:
        """Deliver an existing event to every reader (tests use this)."""
        for sub in self.subscriptions:
            sub.inbox.put(None, (event,))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"


class Topic(Channel):
    """One or more named broker topics: ``app.topic('orders', value_type=Order)``."""

    def __init__(
        self,
        app: AppLike,
        *,
        topics: Sequence[str] = (),
        pattern: str | re.Pattern[str] | None = None,
        schema: Schema | None = None,
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
    ) -> None:
        super().__init__(app, maxsize=maxsize)
        if isinstance(pattern, re.Pattern):
            pattern = pattern.pattern
        if pattern is not None and topics:
            raise ConfigurationError("app.topic(): give topic names or pattern=, not both")
        if pattern is None and not topics:
            raise ConfigurationError("app.topic(): give at least one topic name or pattern=")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(f"app.topic(pattern={pattern!r}): {exc}") from None
        if partitions is not None and partitions < 1:
            raise ConfigurationError(f"app.topic(partitions={partitions!r}): must be at least 1")
        self.topics = tuple(topics)
        self.pattern = pattern
        self.schema = _schema(
            app, schema, key_type, value_type, key_serializer, value_serializer, allow_empty
        )
        self.schema.check_codecs(app.serializers, f"topic {pattern or ','.join(topics)!r}")
        self.partitions = partitions
        if isinstance(retention, timedelta):
            retention = retention.total_seconds()
        self.retention = retention
        self.compacting = compacting
        self.deleting = deleting
        self.replicas = replicas
        self.acks = acks
        self.internal = internal
        #: The topics ``group_by`` forwards into this one: its records carry their positions.
        self.positions_from: set[str] = set()
        self.config = dict(config or {})
        self.allow_empty = allow_empty
        #: The names carry their prefix already: ``group_by`` adds none to topics it derives.
        self.has_prefix = has_prefix
        self._declaring: asyncio.Future[None] | None = None

    @property
    def label(self) -> str:
        return self.pattern if self.pattern is not None else ",".join(self.topics)

    def get_topic_name(self) -> str:
        if self.pattern is not None:
            raise ValueError(f"topic pattern {self.pattern!r} names no single topic to send to")
        if len(self.topics) != 1:
            raise ValueError(f"{self!r} names {len(self.topics)} topics, not one")
        return self.topics[0]

    def new_subscription(
        self, *, shared_progress: Progress | None = None, partition: int | None = None
    ) -> Subscription:
        maxsize = self.maxsize or self.app.conf.stream_buffer_maxsize
        progress = shared_progress or Progress()
        sub = Subscription(
            self, Inbox(maxsize), progress, self._decoder(progress), partition=partition
        )
        if self.positions_from and self.pattern is None:
            sub.source_positions = SourcePositions(self.get_topic_name(), self.positions_from)
        self.subscriptions.append(sub)
        self.app.conductor.add_subscription(sub)
        return sub

    def remove_subscription(self, sub: Subscription) -> None:
        super().remove_subscription(sub)
        self.app.conductor.remove_subscription(sub)

    def _decoder(self, progress: Progress) -> MakeEvent:
        app = self.app
        load_key, load_value = self.schema.bind(app.serializers)
        event_cls: type[Event] = app.extension_class("Event")
        if load_key is None:  # the raw bytes are the key: nothing to decode

            def make_event_raw_key(message: Message) -> Event:
                return event_cls(app, message.key, load_value(message.value), message, progress)

            return make_event_raw_key

        def make_event(message: Message) -> Event:
            raw_key = message.key
            key = None if raw_key is None else load_key(raw_key)
            return event_cls(app, key, load_value(message.value), message, progress)

        return make_event

    def spec(self, name: str) -> TopicSpec:
        """How this topic is created when strm creates it."""
        conf = self.app.conf
        config = {}
        policies = [p for p, on in (("compact", self.compacting), ("delete", self.deleting)) if on]
        if policies:
            config["cleanup.policy"] = ",".join(policies)
        if self.retention is not None:
            config["retention.ms"] = str(int(self.retention * 1000))
        config.update({k: str(v) for k, v in self.config.items()})
        return TopicSpec(
            name,
            self.partitions or conf.topic_partitions,
            self.replicas or conf.topic_replication_factor,
            config,
        )

    async def declare(self) -> None:
        """Create the named topics on the broker, if ``topic_allow_declare`` permits, with this
        description's settings (the app's defaults for what it leaves out).

        A topic strm owns (internal, or given ``partitions=``) goes through the conductor, which
        also refuses one that exists with another partition count; any other topic that exists
        already is left as it is.
        """
        if self.internal or self.partitions is not None:
            await self.app.conductor.declare(self)
            return
        if not self.app.conf.topic_allow_declare:
            return
        admin = self.app.transport("broker_producer").create_admin()
        for name in self.topics:
            spec = self.spec(name)
            if await admin.create_topic(spec):
                self.app.conductor.partition_counts[name] = spec.partitions

    async def maybe_declare(self) -> None:
        """:meth:`declare`, where the calls made while one is under way share it (agents and
        commands of one app often declare the same topic at once)."""
        running = self._declaring
        if running is None:
            running = self._declaring = asyncio.ensure_future(self.declare())
            running.add_done_callback(self._declared)
        await asyncio.shield(running)

    def _declared(self, future: asyncio.Future[None]) -> None:
        self._declaring = None
        if not future.cancelled():
            future.exception()  # retrieved: the callers awaiting it have it raised

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Awaitable[RecordMetadata]:
        """Encode and produce one record; returns an awaitable of where it landed."""
        raw_key, raw_value = self._encode(key, value, key_serializer, value_serializer)
        return await self.send_raw(
            key=raw_key, value=raw_value, partition=partition, timestamp=timestamp, headers=headers
        )

    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        eager_partitioning: bool = False,
    ) -> asyncio.Future[RecordMetadata]:
        """:meth:`send` from synchronous code: the record is encoded now (an encoding error is
        raised here) and handed to the producer by a task of the app, in order; the next
        checkpoint waits for it. Returns a future of where it landed. ``eager_partitioning``
        picks the partition now, when the topic's partition count is known already."""
        raw_key, raw_value = self._encode(key, value, key_serializer, value_serializer)
        name = self.get_topic_name()
        if partition is None and eager_partitioning:
            count = self.app.conductor.partition_counts.get(name)
            if count is not None:
                partitions = list(range(count))
                partition = self.app.partitioner(raw_key, partitions, partitions)
        return self.app.producers.soon.add(
            name,
            raw_key,
            raw_value,
            partition=partition,
            timestamp=timestamp,
            headers=normalize_headers(headers),
            source=self._source(),
        )

    def _encode(
        self, key: Any, value: Any, key_serializer: Any, value_serializer: Any
    ) -> tuple[bytes | None, bytes | None]:
        serializers = self.app.serializers
        if key_serializer is None:
            raw_key = self.schema.dumps_key(serializers, key)
        else:
            raw_key = serializers.dumps_key(key, key_serializer)
        if value_serializer is None:
            raw_value = self.schema.dumps_value(serializers, value)
        else:
            raw_value = serializers.dumps_value(value, value_serializer)
        return raw_key, raw_value

    def _source(self) -> tuple[Any, int] | None:
        """The record being processed, if it is one of this worker's partitions: a send made
        for it is held until it commits (``stream_publish_on_commit``); events of channels,
        iterables and tests never commit, so their sends are not held."""
        event = current_event()
        if event is not None and event.message.tp in self.app.conductor.assignment:
            return (event.message.tp, event.message.offset)
        return None

    async def send_raw(
        self,
        *,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, Any] | Headers | None = None,
    ) -> Awaitable[RecordMetadata]:
        sender = await self.app.get_sender()
        return await sender.send(
            self.get_topic_name(),
            key,
            value,
            partition=partition,
            timestamp=timestamp,
            headers=normalize_headers(headers),
            # Only a sender that holds records until their source commits reads the source.
            source=self._source() if sender.hold_until_commit else None,
        )

    def derive(self, *, prefix: str = "", suffix: str = "", **overrides: Any) -> Topic:
        """A copy of this topic description with some arguments changed; ``prefix`` and
        ``suffix`` are added to each topic name."""
        topics = tuple(overrides.pop("topics", self.topics))
        if prefix or suffix:
            if self.pattern is not None:
                raise ValueError(f"topic pattern {self.pattern!r}: no prefix or suffix to add")
            topics = tuple(f"{prefix}{name}{suffix}" for name in topics)
        kwargs: dict[str, Any] = {
            "topics": topics,
            "schema": self.schema,
            "partitions": self.partitions,
            "retention": self.retention,
            "compacting": self.compacting,
            "deleting": self.deleting,
            "replicas": self.replicas,
            "acks": self.acks,
            "internal": self.internal,
            "config": self.config,
            "maxsize": self.maxsize,
            "allow_empty": self.allow_empty,
        }
        if self.pattern is not None and not topics:
            kwargs["pattern"] = self.pattern
        kwargs.update(overrides)
        derived = self.app.topic(*kwargs.pop("topics"), **kwargs)
        derived.has_prefix = self.has_prefix or bool(prefix)
        return derived

    def derive_topic(self, **overrides: Any) -> Topic:
        """Faust's name for :meth:`derive` on topics."""
        return self.derive(**overrides)


def _schema(
    app: AppLike,
    schema: Schema | None,
    key_type: Any,
    value_type: Any,
    key_serializer: Any,
    value_serializer: Any,
    allow_empty: bool,
) -> Schema:
    if schema is not None:
        if any(x is not None for x in (key_type, value_type, key_serializer, value_serializer)):
            return Schema(
                key_type=key_type if key_type is not None else schema.key_type,
                value_type=value_type if value_type is not None else schema.value_type,
                key_serializer=key_serializer or schema.key_serializer,
                value_serializer=value_serializer or schema.value_serializer,
                allow_empty=allow_empty or schema.allow_empty,
            )
        return schema
    cls: type[Schema] = app.extension_class("Schema")
    return cls(
        key_type=key_type,
        value_type=value_type,
        key_serializer=key_serializer,
        value_serializer=value_serializer,
        allow_empty=allow_empty,
    )
