"""Agent RPC: requests carry a reply topic and a correlation id in their headers; the agent's
yielded result for that request is sent back to the reply topic, where the asking instance's
reply consumer completes the waiting future."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from strm.kernel.spi import TopicSpec

if TYPE_CHECKING:
    from strm.events import Event
    from strm.kernel.app_protocol import AppLike

logger = logging.getLogger("strm.replies")

HEADER_REPLY_TO = "strm-reply-to"
HEADER_CORRELATION_ID = "strm-correlation-id"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def reply_headers(reply_to: str, correlation_id: str) -> list[tuple[str, bytes]]:
    return [(HEADER_REPLY_TO, reply_to.encode()), (HEADER_CORRELATION_ID, correlation_id.encode())]


def reply_address(event: Event | None) -> tuple[str, str] | None:
    """The reply topic and correlation id of a request event, if it is one."""
    if event is None or not event.message.headers:
        return None
    headers = event.headers
    reply_to = headers.get(HEADER_REPLY_TO)
    correlation_id = headers.get(HEADER_CORRELATION_ID)
    if reply_to is None or correlation_id is None:
        return None
    return reply_to.decode(), correlation_id.decode()


class ReplyPromise(asyncio.Future[Any]):
    """The future of one ``ask_nowait``; ``correlation_id`` identifies it."""

    def __init__(self, reply_to: str, correlation_id: str) -> None:
        super().__init__()
        self.reply_to = reply_to
        self.correlation_id = correlation_id


class Replies:
    """This instance's reply topic: sends replies and completes the futures of requests."""

    def __init__(self, app: AppLike) -> None:
        self.app = app
        self.waiting: dict[str, ReplyPromise] = {}
        self._task: asyncio.Task[None] | None = None
        self._consumer: Any = None
        self._started = asyncio.Lock()

    @property
    def topic(self) -> str:
        topic: str = self.app.conf.reply_to
        return topic

    async def start(self) -> None:
        """Create the reply topic and start reading it (once)."""
        async with self._started:
            if self._task is not None:
                return
            app = self.app
            conf = app.conf
            transport = app.transport("broker_consumer")
            if conf.topic_allow_declare:
                await transport.create_admin().create_topic(
                    TopicSpec(
                        self.topic,
                        1,
                        conf.topic_replication_factor,
                        {"retention.ms": str(int(conf.reply_expires * 1000))},
                    )
                )
            consumer = transport.create_consumer(
                group_id=self.topic, client_id=conf.broker_client_id
            )
            consumer.subscribe([self.topic], _NoRebalanceActions())
            await consumer.start()
            self._consumer = consumer
            self._task = self.app.runtime.spawn(self._read(consumer), name="reply reader")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
        for promise in self.waiting.values():
            if not promise.done():
                promise.cancel()
        self.waiting.clear()

    def expect(self, correlation_id: str) -> ReplyPromise:
        promise = ReplyPromise(self.topic, correlation_id)
        self.waiting[correlation_id] = promise
        return promise

    async def _read(self, consumer: Any) -> None:
        serializers = self.app.serializers
        while True:
            batches = await consumer.getmany(0.5)
            for messages in batches.values():
                for message in messages:
                    headers = dict(message.headers)
                    raw_id = headers.get(HEADER_CORRELATION_ID)
                    promise = self.waiting.pop(raw_id.decode(), None) if raw_id else None
                    if promise is None or promise.done():
                        continue
                    try:
                        promise.set_result(serializers.loads_value(message.value))
                    except Exception as exc:
                        promise.set_exception(exc)

    async def send_reply(self, reply_to: str, correlation_id: str, value: Any) -> None:
        app = self.app
        sender = await app.get_sender()
        await sender.send(
            reply_to,
            None,
            app.serializers.dumps_value(value),
            partition=0,
            headers=[(HEADER_CORRELATION_ID, correlation_id.encode())],
        )


class _NoRebalanceActions:
    """The reply consumer owns its group alone: assignments need no action."""

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[Any]) -> None:
        return None
