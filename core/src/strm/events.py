"""Events: a decoded record plus the message it came from, as streams yield them."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import Headers, Message, RecordMetadata

if TYPE_CHECKING:
    from strm.channels import Channel
    from strm.kernel.app_protocol import AppLike
    from strm.runtime.progress import Acker
    from strm.schema import Schema
    from strm.streams import Stream

#: Faust's ``callback=`` of a send: called with the send's future once it completed (its
#: ``result()`` is the :class:`~strm.kernel.spi.RecordMetadata`); it may be ``async``.
MessageSentCallback = Callable[["asyncio.Future[RecordMetadata]"], Awaitable[None] | None]

#: The stream the current task iterates; :func:`current_event` reads its event.
current_stream: ContextVar[Stream | None] = ContextVar("strm_current_stream", default=None)
#: ``current_stream.get``, bound once: the per-event path (``table[key] += 1``) calls it twice,
#: and CPython 3.11 runs ``current_stream.get()`` as a generic method lookup, about 500 machine
#: instructions more per call than calling the bound method (bench/README.md).
stream_of_task = current_stream.get

_SAME: Any = object()


def call_when_sent(
    app: AppLike, sent: Awaitable[RecordMetadata], callback: MessageSentCallback | None
) -> Awaitable[RecordMetadata]:
    """``sent``, with ``callback`` called once it completes (run as an app task if async)."""
    if callback is None:
        return sent
    future = asyncio.ensure_future(sent)

    def done(completed: asyncio.Future[RecordMetadata]) -> None:
        outcome = callback(completed)
        if inspect.iscoroutine(outcome):
            app.runtime.spawn(outcome, name="send callback")

    future.add_done_callback(done)
    return future


def current_event() -> Event | None:
    """The event the calling task's stream is processing, if any."""
    stream = stream_of_task()
    return None if stream is None else stream.current_event


class Event:
    """``event.key``, ``event.value``, ``event.headers`` and ``event.message`` (topic, partition,
    offset, timestamp, raw bytes)."""

    __slots__ = ("_headers", "_progress", "app", "key", "message", "value")

    def __init__(
        self,
        app: AppLike,
        key: Any,
        value: Any,
        message: Message,
        progress: Acker | None = None,
    ) -> None:
        self.app = app
        self.key = key
        self.value = value
        self.message = message
        self._progress = progress
        self._headers: dict[str, bytes] | None = None

    @property
    def headers(self) -> Mapping[str, bytes]:
        headers = self._headers
        if headers is None:
            headers = self._headers = dict(self.message.headers)
        return headers

    def ack(self) -> bool:
        """Mark the event finished, for streams that acknowledge by hand (``noack``, ``take``);
        whether this call acknowledged it (Faust's return value).

        In ordinary iteration asking for the next event acknowledges this one, and calling
        ``ack`` is harmless.
        """
        progress = self._progress
        if progress is not None and progress.manual:
            message = self.message
            progress.ack(message.tp, message.offset)
            return True
        return False

    async def send(
        self,
        channel: Channel | str,
        key: Any = _SAME,
        value: Any = _SAME,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, bytes] | Headers | None = _SAME,
        schema: Schema | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        callback: MessageSentCallback | None = None,
        force: bool = False,
    ) -> Awaitable[RecordMetadata]:
        """Send this event's key and value (or replacements) to another channel or topic,
        encoded by ``schema`` if given, else by that channel's schema.

        ``force`` is Faust's "do not buffer": strm hands every send to the producer at once.
        """
        from strm.channels import Topic

        target = self.app.resolve_channel(channel)
        key = self.key if key is _SAME else key
        value = self.value if value is _SAME else value
        headers = self.message.headers if headers is _SAME else headers
        if schema is not None and isinstance(target, Topic):
            serializers = self.app.serializers
            sent = await target.send_raw(
                key=schema.dumps_key(serializers, key)
                if key_serializer is None
                else serializers.dumps_key(key, key_serializer),
                value=schema.dumps_value(serializers, value)
                if value_serializer is None
                else serializers.dumps_value(value, value_serializer),
                partition=partition,
                timestamp=timestamp,
                headers=headers,
            )
        else:  # an in-memory channel carries the objects themselves: there is nothing to encode
            sent = await target.send(
                key=key,
                value=value,
                partition=partition,
                timestamp=timestamp,
                headers=headers,
                key_serializer=key_serializer,
                value_serializer=value_serializer,
            )
        return call_when_sent(self.app, sent, callback)

    async def forward(
        self,
        channel: Channel | str,
        key: Any = _SAME,
        value: Any = _SAME,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, bytes] | Headers | None = _SAME,
        schema: Schema | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        callback: MessageSentCallback | None = None,
        force: bool = False,
    ) -> Awaitable[RecordMetadata]:
        """Send the original bytes (or replacements, encoded if a schema or serializer is
        given) to another channel or topic, keeping the event's timestamp."""
        target = self.app.resolve_channel(channel)
        message = self.message
        if key is _SAME:
            key = message.key
        elif schema is not None or key_serializer is not None:
            serializers = self.app.serializers
            key = (
                serializers.dumps_key(key, key_serializer)
                if key_serializer is not None
                else schema.dumps_key(serializers, key)  # type: ignore[union-attr]
            )
        if value is _SAME:
            value = message.value
        elif schema is not None or value_serializer is not None:
            serializers = self.app.serializers
            value = (
                serializers.dumps_value(value, value_serializer)
                if value_serializer is not None
                else schema.dumps_value(serializers, value)  # type: ignore[union-attr]
            )
        sent = await target.send_raw(
            key=key,
            value=value,
            partition=partition,
            timestamp=message.timestamp if timestamp is None else timestamp,
            headers=message.headers if headers is _SAME else headers,
        )
        return call_when_sent(self.app, sent, callback)

    async def __aenter__(self) -> Event:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.ack()

    def __repr__(self) -> str:
        m = self.message
        return f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r} value={self.value!r}>"
