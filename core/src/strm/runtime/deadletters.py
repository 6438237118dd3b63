"""What happens to a record that cannot be decoded or whose processing failed.

Nothing is dropped silently: the record is logged with its topic, partition and offset and the
error, and — when the ``dead_letter_topic`` setting names a topic — its original bytes are sent
there with headers saying what went wrong and where it came from. Then it counts as processed,
so one bad record does not stop its partition.

The log line says "sent to dead-letter topic" only once the broker has the record. A record too
large to send whole goes with its value cut to fit (the ``strm-dlq-truncated`` header gives the
whole length); one that cannot be sent even so raises :class:`strm.kernel.errors.DeadLetterError`,
which stops the worker before the record's offset is committed, rather than lose it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from strm.kernel.errors import DeadLetterError
from strm.kernel.spi import Headers, Message
from strm.kernel.transports import RecordTooLargeError, TransportError
from strm.kernel.transports.record_size import value_room
from strm.runtime.structured_logs import log_position

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

logger = logging.getLogger("strm.deadletters")

HEADER_ERROR = "strm-error"
HEADER_STAGE = "strm-error-stage"
HEADER_TOPIC = "strm-source-topic"
HEADER_PARTITION = "strm-source-partition"
HEADER_OFFSET = "strm-source-offset"
#: On a dead letter whose value was cut to fit: the length of the whole value, in bytes.
HEADER_TRUNCATED = "strm-dlq-truncated"
#: Headers of strm's names that the record itself carries (a dead letter of a dead letter) are
#: kept under their name with this prefix, so that the names always mean strm's own values.
ORIGINAL_PREFIX = "strm-original-"
OWN_HEADERS = frozenset(
    {HEADER_ERROR, HEADER_STAGE, HEADER_TOPIC, HEADER_PARTITION, HEADER_OFFSET, HEADER_TRUNCATED}
)

TOO_LARGE_ADVICE = (
    "raise producer_max_request_size (and the dead-letter topic's max.message.bytes on the "
    "broker), or unset dead_letter_topic to log and skip such records"
)
SEND_ADVICE = (
    "check that the dead-letter topic exists and that the app may write to it, or unset "
    "dead_letter_topic to log and skip such records"
)


class DeadLetters:
    def __init__(self, app: AppLike) -> None:
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
        position = log_position(message.topic, message.partition, message.offset)
        action = "skipped"
        if topic and message.offset >= 0:
            headers = _headers(message, error, stage)
            failure = (
                f"record {message.topic}[{message.partition}]@{message.offset} failed to "
                f"{stage}{where} ({_error(error)})"
            )
            try:
                action = await self._send(topic, message, headers, failure)
            except DeadLetterError as lost:
                logger.error("%s", lost, extra=position)
                raise
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
            extra=position,
        )

    async def _send(self, topic: str, message: Message, headers: Headers, failure: str) -> str:
        """Send the dead letter, whole or with its value cut to fit, and say how it went;
        ``failure`` starts the error raised when it cannot be sent."""
        try:
            await self._deliver(topic, message, message.value, headers)
        except RecordTooLargeError as exc:
            too_large = exc
        except TransportError as exc:
            raise _unsendable(failure, topic, "", exc, SEND_ADVICE) from exc
        else:
            return f"sent to dead-letter topic {topic!r}"
        limit: int = self.app.conf.producer_max_request_size
        whole = len(message.value or b"")
        headers = [*headers, (HEADER_TRUNCATED, str(whole).encode())]
        room = value_room(limit, message.key, headers)
        if message.value is None or not 0 <= room < whole:
            raise _unsendable(failure, topic, "", too_large, TOO_LARGE_ADVICE) from too_large
        try:
            await self._deliver(topic, message, message.value[:room], headers)
        except TransportError as exc:
            cut = f", not even with its value cut to {room} bytes"
            raise _unsendable(failure, topic, cut, exc, TOO_LARGE_ADVICE) from exc
        return (
            f"sent to dead-letter topic {topic!r} with its value cut from {whole} to {room} "
            f"bytes to fit producer_max_request_size ({limit})"
        )

    async def _deliver(
        self, topic: str, message: Message, value: bytes | None, headers: Headers
    ) -> None:
        """Send and wait until the broker has the record. In a transaction, the record and the
        failed record's offset are committed together or not at all, so it is not waited for
        (it is written when the checkpoint commits)."""
        sender = await self.app.get_sender()
        delivery = await sender.send(
            topic, message.key, value, timestamp=message.timestamp, headers=headers
        )
        if not sender.transactional:
            await delivery


def _headers(message: Message, error: BaseException, stage: str) -> list[tuple[str, bytes]]:
    """The record's headers, with those of strm's names renamed, then strm's own."""
    return [
        *((_kept(name), value) for name, value in message.headers),
        (HEADER_ERROR, _error(error).encode()),
        (HEADER_STAGE, stage.encode()),
        (HEADER_TOPIC, message.topic.encode()),
        (HEADER_PARTITION, str(message.partition).encode()),
        (HEADER_OFFSET, str(message.offset).encode()),
    ]


def _kept(name: str) -> str:
    if name in OWN_HEADERS or name.startswith(ORIGINAL_PREFIX):
        return ORIGINAL_PREFIX + name
    return name


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _unsendable(
    failure: str, topic: str, cut: str, exc: TransportError, advice: str
) -> DeadLetterError:
    return DeadLetterError(
        f"{failure} and cannot be sent to dead-letter topic {topic!r}{cut}: {exc}. The worker "
        "stops so that the record is not lost (its offset is not committed; it is read again "
        f"at the next start): {advice}."
    )
