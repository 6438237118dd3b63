"""``app.producer``: the app's producer with Faust's calling convention.

Faust code sends bytes straight through the producer (``await app.producer.send(topic, key,
value, partition, timestamp, headers)``, ``send_and_wait``, ``flush``). This hands those calls to
the app's sender, so they join its transaction under exactly-once and its checkpoints, like any
other send of the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING

from strm.kernel.spi import RecordMetadata

if TYPE_CHECKING:
    from strm.kernel.app_protocol import AppLike

Headers = Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None


class ProducerHandle:
    """Faust's ``ProducerT`` methods over the app's sender."""

    def __init__(self, app: AppLike) -> None:
        self.app = app

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers = None,
        *,
        transactional_id: str | None = None,
    ) -> Awaitable[RecordMetadata]:
        """Hand the record to the producer; the result completes when the broker has it.

        ``transactional_id`` is Faust's; strm has one transaction per app instance, so any
        other value is refused rather than ignored."""
        if transactional_id is not None:
            raise ValueError(
                "app.producer.send(transactional_id=...): strm runs one transaction per app "
                "instance (processing_guarantee='exactly_once'); leave it unset"
            )
        sender = await self.app.get_sender()
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        return await sender.send(
            topic, key, value, partition=partition, timestamp=timestamp, headers=pairs, source=None
        )

    async def send_and_wait(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers = None,
        *,
        transactional_id: str | None = None,
    ) -> RecordMetadata:
        delivery = await self.send(
            topic, key, value, partition, timestamp, headers, transactional_id=transactional_id
        )
        return await delivery

    async def flush(self) -> None:
        """Wait until every record sent so far is on the broker."""
        sender = await self.app.get_sender()
        await sender.producer.flush()

    def __repr__(self) -> str:
        return f"<ProducerHandle of {self.app!r}>"


__all__ = ["ProducerHandle"]
