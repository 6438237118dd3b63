"""What happens to a record that cannot be decoded or whose processing failed.

Nothing is dropped silently: the record is logged with its topic, partition and offset and the
error, and — when the ``dead_letter_topic`` setting names a topic — its original bytes are sent
there with headers saying what went wrong and where it came from. Then it counts as processed,
so one bad record does not stop its partition.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from strm.spi import Message

if TYPE_CHECKING:
    from strm.app import App

logger = logging.getLogger("strm.deadletters")

HEADER_ERROR = "strm-error"
HEADER_STAGE = "strm-error-stage"
HEADER_TOPIC = "strm-source-topic"
HEADER_PARTITION = "strm-source-partition"
HEADER_OFFSET = "strm-source-offset"


class DeadLetters:
    def __init__(self, app: App) -> None:
        self.app = app
        self.count = 0

    async def undecodable(self, message: Message, error: BaseException) -> None:
        """A record whose key or value could not be decoded."""
        await self._handle(message, error, "decode", "")

    async def failed(self, message: Message, error: BaseException, agent: str) -> None:
        """A record whose processing raised in an agent."""
        await self._handle(message, error, "process", f" in agent {agent}")

    async def _handle(self, message: Message, error: BaseException, stage: str, where: str) -> None:
        self.count += 1
        self.app.sensors.on_dead_letter(message, error, stage)
        topic = self.app.conf.dead_letter_topic
        action = f"sent to dead-letter topic {topic!r}" if topic else "skipped"
        logger.error(
            "record %s[%d]@%d failed to %s%s and was %s: %s: %s",
            message.topic,
            message.partition,
            message.offset,
            stage,
            where,
            action,
            type(error).__name__,
            error,
        )
        if not topic or message.offset < 0:
            return
        headers = [
            *message.headers,
            (HEADER_ERROR, f"{type(error).__name__}: {error}".encode()),
            (HEADER_STAGE, stage.encode()),
            (HEADER_TOPIC, message.topic.encode()),
            (HEADER_PARTITION, str(message.partition).encode()),
            (HEADER_OFFSET, str(message.offset).encode()),
        ]
        sender = await self.app.get_sender()
        await sender.send(
            topic, message.key, message.value, timestamp=message.timestamp, headers=headers
        )
