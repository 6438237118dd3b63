"""Events: a decoded record plus the message it came from, as streams yield them."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from strm.spi import Headers, Message, RecordMetadata

if TYPE_CHECKING:
    from strm.app import App
    from strm.channels import Channel
    from strm.progress import Acker
    from strm.streams import Stream

#: The stream the current task iterates; :func:`current_event` reads its event.
current_stream: ContextVar[Stream | None] = ContextVar("strm_current_stream", default=None)

_SAME: Any = object()


def current_event() -> Event | None:
    """The event the calling task's stream is processing, if any."""
    stream = current_stream.get()
    return None if stream is None else stream.current_event


class Event:
    """``event.key``, ``event.value``, ``event.headers`` and ``event.message`` (topic, partition,
    offset, timestamp, raw bytes)."""

    __slots__ = ("_headers", "_progress", "app", "key", "message", "value")

    def __init__(
        self,
        app: App,
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

    def ack(self) -> None:
        """Mark the event finished, for streams that acknowledge by hand (``noack``, ``take``).

        In ordinary iteration asking for the next event acknowledges this one, and calling
        ``ack`` is harmless.
        """
        progress = self._progress
        if progress is not None and progress.manual:
            message = self.message
            progress.ack(message.tp, message.offset)

    async def send(
        self,
        channel: Channel | str,
        key: Any = _SAME,
        value: Any = _SAME,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, bytes] | Headers | None = _SAME,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Awaitable[RecordMetadata]:
        """Send this event's key and value (or replacements) to another channel or topic,
        encoded by that channel's schema."""
        target = self.app.resolve_channel(channel)
        return await target.send(
            key=self.key if key is _SAME else key,
            value=self.value if value is _SAME else value,
            partition=partition,
            timestamp=timestamp,
            headers=self.message.headers if headers is _SAME else headers,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        )

    async def forward(
        self,
        channel: Channel | str,
        key: Any = _SAME,
        value: Any = _SAME,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Mapping[str, bytes] | Headers | None = _SAME,
    ) -> Awaitable[RecordMetadata]:
        """Send the original bytes (or replacements) unchanged to another channel or topic."""
        target = self.app.resolve_channel(channel)
        message = self.message
        return await target.send_raw(
            key=message.key if key is _SAME else key,
            value=message.value if value is _SAME else value,
            partition=partition,
            timestamp=message.timestamp if timestamp is None else timestamp,
            headers=message.headers if headers is _SAME else headers,
        )

    async def __aenter__(self) -> Event:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.ack()

    def __repr__(self) -> str:
        m = self.message
        return f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r} value={self.value!r}>"
